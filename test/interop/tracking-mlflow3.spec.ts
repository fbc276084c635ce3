import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { InProcessTransport } from '@mlops/bus';
import { loadTrackingConfig, startTracking, type TrackingApp } from '@mlops/service-tracking';
import { interopPython } from '../support/python';

const run = promisify(execFile);
const SCRIPT = resolve(__dirname, 'tracking/mlflow_models.py');

/**
 * MLflow 3 parity for models, with the official client (test/interop/requirements-tracking.txt):
 * `mlflow.sklearn.log_model`, logged models (get, search, load by `models:/<id>` and
 * `runs:/<run>/model`), `log_input`, experiment tags and rename, OR filters, order_by on a
 * metric, and a PNG artifact round trip. Tracking only: no registry is running.
 */
describe('tracking with the mlflow 3 client: logged models, inputs, experiment tags and rename, OR filters', () => {
  let tracking: TrackingApp;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tracking-mlflow3-'));
    tracking = await startTracking(
      loadTrackingConfig({ DATABASE_URL: `sqlite:${join(dir, 'tracking.db')}`, TRACKING_PORT: '0', TRACKING_ARTIFACT_ROOT: join(dir, 'artifacts') }),
      { inProcess: new InProcessTransport(), logger: false },
    );
  });
  afterAll(async () => {
    await tracking?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs, finds and loads an sklearn model, and searches runs with OR and by a metric', { timeout: 180_000 }, async () => {
    let stdout: string;
    try {
      ({ stdout } = await run(interopPython(), [SCRIPT], {
        env: { ...process.env, MLFLOW_TRACKING_URI: tracking.url, EXPERIMENT_NAME: 'mlflow3-interop', MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0' },
        timeout: 170_000,
        cwd: dir,
      }));
    } catch (error) {
      // execFile's message carries the script's stderr (the client's traceback).
      throw new Error(`the mlflow script failed: ${(error as Error).message.slice(-6000)}`);
    }
    const client = JSON.parse(stdout.trim().split('\n').at(-1)!);
    const { experiment_id: experimentId, model_id: modelId, run_id: runId } = client;
    expect(client).toMatchObject({
      experiment_name: 'mlflow3-interop-renamed',
      experiment_tags: { team: 'fraud', owner: 'ml-platform' },
      model_uri: `models:/${modelId}`,
      logged: {
        name: 'model',
        status: 'READY',
        source_run_id: runId,
        artifact_location: `mlflow-artifacts:/${experimentId}/models/${modelId}/artifacts`,
        params: { C: '1.0' },
      },
      search_logged_models: [modelId],
      outputs: [[modelId, 0]],
      inputs: [['train', 's3', { 'mlflow.data.context': 'training' }]],
      predictions: [0, 0, 1, 1, 0, 1],
      by_run_classes: [0, 1],
      or_runs: ['sklearn-run', 'low'],
      ordered: ['sklearn-run', 'mid', 'low'],
      dataset_runs: ['sklearn-run'],
      frame_runs: ['sklearn-run', 'mid', 'low'],
      png: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
      missing_error: 'RESOURCE_DOES_NOT_EXIST',
      // log_model re-logs the run's metrics with the model id; the history keeps one.
      acc_history: [[0, 0.9]],
    });
    expect(modelId).toMatch(/^m-[0-9a-f]{32}$/);
    expect(client.png_size).toBe(client.png_expected_size);
    expect(client.model_files).toEqual(expect.arrayContaining(['MLmodel', 'model.skops', 'requirements.txt', 'input_example.json']));
    expect(client.run_model_files).toEqual(expect.arrayContaining(['model/MLmodel', 'model/model.skops']));

    // The same through our HTTP API: the run shows its model and its dataset.
    const got = (await fetch(`${tracking.url}/api/2.0/mlflow/runs/get?run_id=${runId}`).then((r) => r.json())) as {
      run: { outputs: unknown; inputs: { dataset_inputs: { dataset: unknown }[] } };
    };
    expect(got.run.outputs).toEqual({ model_outputs: [{ model_id: modelId, step: 0 }] });
    expect(got.run.inputs.dataset_inputs[0].dataset).toMatchObject({ name: 'train', source_type: 's3' });
  });
});

/** Every python and bash example in services/tracking/README.md, run as written against a fresh tracking service. */
describe('services/tracking/README.md examples', () => {
  const readme = readFileSync(resolve(__dirname, '../../services/tracking/README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```(python|bash)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], code: m[2] }));
  let tracking: TrackingApp;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tracking-readme-'));
    tracking = await startTracking(
      loadTrackingConfig({ DATABASE_URL: 'sqlite::memory:', TRACKING_PORT: '0', TRACKING_ARTIFACT_ROOT: join(dir, 'artifacts') }),
      { inProcess: new InProcessTransport(), logger: false },
    );
  });
  afterAll(async () => {
    await tracking?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('has the examples', () => {
    expect(blocks.map((b) => b.lang)).toEqual(['python', 'python', 'bash']);
  });

  // The bash block first: its experiment is the first one created (id 1, as the example shows).
  it('runs the curl example and answers what its comments show', async () => {
    const { code } = blocks.find((b) => b.lang === 'bash')!;
    const { stdout } = await run('bash', ['-e', '-c', code], { env: { ...process.env, MLFLOW_TRACKING_URI: tracking.url }, timeout: 30_000 });
    const expected = [...code.matchAll(/^# (\{.*\})$/gm)].map((m) => m[1]);
    expect(expected).toHaveLength(2);
    for (const line of expected) expect(stdout).toContain(line);
    const renamed = await fetch(`${tracking.url}/api/2.0/mlflow/experiments/get?experiment_id=1`).then((r) => r.json());
    expect(renamed).toMatchObject({ experiment: { name: 'readme-exp-renamed', tags: [{ key: 'team', value: 'fraud' }] } });
  });

  it('runs the python examples with the mlflow client', { timeout: 120_000 }, async () => {
    for (const { code } of blocks.filter((b) => b.lang === 'python')) {
      try {
        await run(interopPython(), ['-c', code], { env: { ...process.env, MLFLOW_TRACKING_URI: tracking.url, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0' }, timeout: 100_000, cwd: dir });
      } catch (error) {
        throw new Error(`README example failed:\n${code}\n${(error as Error).message.slice(-4000)}`);
      }
    }
  });
});
