import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { InProcessTransport } from '@mlops/bus';
import { infraEnv } from '../../../test/infra/infra-env';
import { interopPython } from '../../../test/support/python';
import { startTracking, type TrackingApp } from './tracking.app';
import { loadTrackingConfig } from './tracking.config';

const run = promisify(execFile);
const SCRIPT = resolve(__dirname, '../../../test/interop/tracking/mlflow_models.py');

/** The MLflow 3 flows (logged models, inputs, experiment tags and rename, OR filters) with the real client, on Postgres. */
describe('tracking MLflow 3 routes on Postgres (official mlflow client)', () => {
  let tracking: TrackingApp;
  let artifactRoot: string;

  beforeAll(async () => {
    artifactRoot = mkdtempSync(join(tmpdir(), 'tracking-models-it-'));
    tracking = await startTracking(
      loadTrackingConfig({ DATABASE_URL: infraEnv().DATABASE_URL, TRACKING_PORT: '0', TRACKING_ARTIFACT_ROOT: artifactRoot, BUS: 'in-process' }),
      { inProcess: new InProcessTransport(), logger: false },
    );
  });
  afterAll(async () => {
    await tracking?.close();
    rmSync(artifactRoot, { recursive: true, force: true });
  });

  it('logs an sklearn model and reads back models, inputs, tags and OR searches', async () => {
    const name = `mlflow3-it-${randomUUID().slice(0, 8)}`;
    let stdout: string;
    try {
      ({ stdout } = await run(interopPython(), [SCRIPT], {
        env: { ...process.env, MLFLOW_TRACKING_URI: tracking.url, EXPERIMENT_NAME: name, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0' },
        timeout: 170_000,
        cwd: artifactRoot,
      }));
    } catch (error) {
      throw new Error(`the mlflow script failed: ${(error as Error).message.slice(-6000)}`);
    }
    const client = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(client).toMatchObject({
      experiment_name: `${name}-renamed`,
      experiment_tags: { team: 'fraud', owner: 'ml-platform' },
      logged: { name: 'model', status: 'READY', source_run_id: client.run_id, params: { C: '1.0' } },
      search_logged_models: [client.model_id],
      outputs: [[client.model_id, 0]],
      inputs: [['train', 's3', { 'mlflow.data.context': 'training' }]],
      predictions: [0, 0, 1, 1, 0, 1],
      or_runs: ['sklearn-run', 'low'],
      ordered: ['sklearn-run', 'mid', 'low'],
      dataset_runs: ['sklearn-run'],
      frame_runs: ['sklearn-run', 'mid', 'low'],
      missing_error: 'RESOURCE_DOES_NOT_EXIST',
      // log_model re-logs the run's metrics with the model id; the history keeps one.
      acc_history: [[0, 0.9]],
    });
    expect(client.png_size).toBe(client.png_expected_size);
  });
});
