// `npm start`: builds, then runs the embedded platform (one process, no servers).
// On a machine whose node is older than 22 it runs itself again on Node 24 (installed once
// into the user's cache, see ensure-node.mjs), rebuilding the one native addon for it.
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { ensureNodeBin, REQUIRED_MAJOR } from './ensure-node.mjs';

const FLAGS = ['serve', 'keep', 'records', 'shift-records', 'window', 'promote-after', 'label-share', 'epochs', 'port', 'grpc-port', 'data-dir'];

/**
 * `npm start --serve` (without `--`) gives the flag to npm, which passes it on only as
 * `npm_config_serve`; take such flags too, and say how to pass them.
 */
function flagsGivenToNpm() {
  const args = [];
  for (const flag of FLAGS) {
    const value = process.env[`npm_config_${flag.replaceAll('-', '_')}`];
    if (value === undefined || value === '' || process.argv.includes(`--${flag}`)) continue;
    args.push(`--${flag}`);
    if (value !== 'true') args.push(value);
  }
  if (args.length > 0) console.log(`note: npm read ${args.join(' ')} as its own flags; taking them for the platform (write \`npm start -- ${args.join(' ')}\`)`);
  return args;
}

const [major] = process.versions.node.split('.').map(Number);
if (major < REQUIRED_MAJOR) {
  const bin = ensureNodeBin((line) => console.log(line));
  const node = join(bin, 'node');
  console.log(`Node ${process.versions.node} is older than ${REQUIRED_MAJOR}: running with ${spawnSync(node, ['-v'], { encoding: 'utf8' }).stdout.trim()} from ${bin}`);
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, npm_config_nodedir: dirname(bin) };
  const loads = spawnSync(node, ['-e', "new (require('better-sqlite3'))(':memory:').close()"], { stdio: 'ignore' });
  if (loads.status !== 0) {
    console.log(`rebuilding better-sqlite3 for Node ${REQUIRED_MAJOR}+ (once; installed for ${process.versions.node})`);
    execFileSync(join(bin, 'npm'), ['rebuild', 'better-sqlite3'], { stdio: 'inherit', env });
  }
  const run = spawnSync(node, [process.argv[1], ...process.argv.slice(2)], { stdio: 'inherit', env });
  process.exit(run.status ?? 1);
}

console.log('building (tsc)...');
execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
const run = spawnSync(process.execPath, ['dist/platform/embedded/src/main.js', ...flagsGivenToNpm(), ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(run.status ?? 1);
