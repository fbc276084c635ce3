import { accessSync, constants } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * The Python interop venv (real scikit-learn, mlflow, tritonclient, scipy), provisioned once in
 * vitest's main process before any test of the tier starts: MLOPS_PYTHON when it is set (as
 * .ci/run sets it), else deploy/local/python.sh (creates or updates the venv, prints its
 * interpreter). The tests only read MLOPS_PYTHON (test/support/python.ts) and never run pip.
 */
export function setup(): void {
  const given = process.env.MLOPS_PYTHON;
  if (given) {
    try {
      accessSync(given, constants.X_OK);
    } catch {
      throw new Error(`MLOPS_PYTHON=${given} is not an executable file: point it at the interop venv's python (bash deploy/local/python.sh prints it)`);
    }
    return;
  }
  if (process.env.CI === 'true') {
    // CI provisions the venv before the tests (.ci/run); without it the Python tests must fail, not skip or install.
    throw new Error('CI=true and MLOPS_PYTHON is not set: .ci/run sets it to the interpreter deploy/local/python.sh prints');
  }
  const root = resolve(__dirname, '../..');
  process.env.MLOPS_PYTHON = execFileSync('bash', [resolve(root, 'deploy/local/python.sh')], { encoding: 'utf8', cwd: root, stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}
