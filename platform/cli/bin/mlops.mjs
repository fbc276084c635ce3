#!/usr/bin/env node
// `npx mlops`: runs the CLI built into dist/ (building it first when platform/cli/src is newer).
// On a machine whose node is older than 22 it runs itself again on Node 24, installed once
// into the user's cache the same way `npm start` does (scripts/ensure-node.mjs).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const [major] = process.versions.node.split('.').map(Number);

// ensure-node.mjs runs on Node >= 18; on an older node, say what to do instead of a syntax error.
if (major < 22) {
  const { ensureNodeBin, REQUIRED_MAJOR } = await import(join(root, 'scripts/ensure-node.mjs'));
  let bin;
  try {
    bin = ensureNodeBin((line) => console.error(line));
  } catch (error) {
    console.error(`error: ${error.message}`);
    process.exit(1);
  }
  const node = join(bin, 'node');
  console.error(`Node ${process.versions.node} is older than ${REQUIRED_MAJOR}: running mlops with ${spawnSync(node, ['-v'], { encoding: 'utf8' }).stdout.trim()} from ${bin}`);
  const again = spawnSync(node, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
  process.exit(again.status ?? 1);
}

const main = join(root, 'dist/platform/cli/src/main.js');
const newest = (dir) =>
  readdirSync(dir, { withFileTypes: true }).reduce((latest, entry) => {
    const path = join(dir, entry.name);
    return Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }, 0);
if (!existsSync(main) || newest(join(root, 'platform/cli/src')) > statSync(main).mtimeMs) {
  console.error('building the mlops CLI (tsc, once after a change)...');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}

const { run } = await import(main);
process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  isTTY: process.stderr.isTTY === true,
  env: process.env,
  cwd: process.cwd(),
});
