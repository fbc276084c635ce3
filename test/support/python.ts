import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

let cached: string | undefined;

/** The interpreter of the interop virtualenv (real mlflow / tritonclient from PyPI). */
export function interopPython(): string {
  cached ??= process.env.MLOPS_PYTHON ?? execFileSync('bash', [resolve(__dirname, '../../deploy/local/python.sh')], { encoding: 'utf8' }).trim();
  return cached;
}
