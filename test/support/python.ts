/**
 * The interpreter of the interop virtualenv (real mlflow / tritonclient / scikit-learn from
 * PyPI). The venv is provisioned once before the tests start, by the globalSetup of the tiers
 * that use it (test/infra/python-setup.ts, in the `python` and `integration` vitest projects);
 * a test never installs anything.
 */
export function interopPython(): string {
  const python = process.env.MLOPS_PYTHON;
  if (!python) {
    throw new Error(
      'MLOPS_PYTHON is not set: specs that use Python run in the `python` or `integration` vitest project, whose globalSetup provisions it (npx vitest run --project python <file>)',
    );
  }
  return python;
}
