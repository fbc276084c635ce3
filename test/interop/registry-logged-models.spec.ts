import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { InProcessTransport } from '@mlops/bus';
import { loadRegistryConfig, startRegistry, type RegistryApp } from '@mlops/service-registry';
import { loadTrackingConfig, startTracking, type TrackingApp } from '@mlops/service-tracking';
import { interopPython } from '../support/python';

const SCRIPT = resolve(__dirname, 'registry/mlflow_logged_models.py');

/**
 * MLflow 3's logged models (tracking's logged-models routes) registered into the registry by
 * the official client: `runs:/<run>/<name>` resolved to the run's logged model, `models:/<id>`,
 * loading by version, and a scikit-learn logged model accepted but not servable.
 */
describe('registry: MLflow 3 logged models with the official client (tracking + registry in-process)', () => {
  let dir: string;
  let tracking: TrackingApp;
  let registry: RegistryApp;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'registry-logged-'));
    tracking = await startTracking(loadTrackingConfig({ DATABASE_URL: 'sqlite::memory:', TRACKING_PORT: '0', TRACKING_ARTIFACT_ROOT: join(dir, 'tracking') }), {
      inProcess: new InProcessTransport(),
      logger: false,
    });
    registry = await startRegistry(
      loadRegistryConfig({ DATABASE_URL: 'sqlite::memory:', REGISTRY_PORT: '0', REGISTRY_ARTIFACT_ROOT: join(dir, 'registry'), REGISTRY_TRACKING_URI: tracking.url }),
      { inProcess: new InProcessTransport(), logger: false },
    );
  }, 60_000);
  afterAll(async () => {
    await registry?.close();
    await tracking?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('registers logged models from runs:/ and models:/<id>, loads them by version, and marks the sklearn one not servable', async () => {
    // Asynchronously: both servers answer from this process's event loop.
    const { stdout } = await promisify(execFile)(interopPython(), [SCRIPT], {
      timeout: 150_000,
      env: { ...process.env, MLFLOW_TRACKING_URI: tracking.url, MLFLOW_REGISTRY_URI: registry.url, MODEL_NAME: 'logged-interop', GIT_PYTHON_REFRESH: 'quiet' },
    });
    const out = JSON.parse(stdout.trim().split('\n').pop()!);
    const modelId = String(out.onnx_model_uri).replace('models:/', '');
    expect(out.versions).toEqual([
      ['1', out.onnx_model_uri, out.run_id, {}],
      ['2', out.onnx_model_uri, out.run_id, {}],
      ['3', expect.stringMatching(/^models:\/m-/), out.run_id, { 'mlops.servable': 'false' }],
    ]);
    expect(out.download_uri).toBe(`mlflow-artifacts:/1/models/${modelId}/artifacts`);
    expect(out.labels).toEqual([out.expected, out.expected]);
    expect(out.not_servable_error).toMatch(/not servable.*mlflow\.onnx\.log_model/);
    expect(out.production_stage).toBe('Production');
  }, 180_000);
});
