// `npm start`: builds, then runs the embedded platform (one process, no servers).
import { execFileSync, spawnSync } from 'node:child_process';

const [major] = process.versions.node.split('.').map(Number);
if (major < 22) {
  console.error(`Node ${process.versions.node} is too old: this project needs Node >= 22 (see README).`);
  process.exit(1);
}
console.log('building (tsc)...');
execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
const run = spawnSync(process.execPath, ['dist/platform/embedded/src/main.js', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(run.status ?? 1);
