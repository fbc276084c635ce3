import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { InProcessTransport } from '@mlops/bus';
import type { AnyEvent, EventEnvelope } from '@mlops/contracts';
import { decodeEvent } from '@mlops/contracts';
import { EventBus } from '@mlops/bus';
import { loadTrackingConfig, startTracking, type TrackingApp } from '@mlops/service-tracking';
import { loadTrainerConfig, startTrainer, type TrainerApp } from '@mlops/service-trainer';
import { writeSeparableDataset, type SyntheticDataset } from '../../services/trainer/src/test/synthetic-dataset';
import { interopPython } from '../support/python';
import { waitFor } from '../support/wait-for';

const run = promisify(execFile);
const LOAD_SCRIPT = resolve(__dirname, 'tracking/load_trained_model.py');
const SKLEARN_TRAINER = resolve(__dirname, '../fixtures/trainer/train_sklearn.py');

/**
 * The trainer logs its model to tracking as an MLflow 3 logged model of the run (model.onnx +
 * MLmodel with the onnx flavor and the signature): the official client lists the run's
 * artifacts, loads the model by `runs:/<run>/model` and `models:/<id>` with mlflow.onnx and
 * pyfunc, and onnxruntime predicts with it. Built-in and external (scikit-learn) trainers.
 */
describe('trainer -> tracking -> mlflow.onnx.load_model (real client, in-process tracking)', () => {
  let dir: string;
  let dataset: SyntheticDataset;
  let tracking: TrackingApp;
  const apps: TrainerApp[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trainer-tracking-mlflow-'));
    dataset = writeSeparableDataset(join(dir, 'data.arrow'));
    tracking = await startTracking(
      loadTrackingConfig({ DATABASE_URL: `sqlite:${join(dir, 'tracking.db')}`, TRACKING_PORT: '0', TRACKING_ARTIFACT_ROOT: join(dir, 'artifacts') }),
      { inProcess: new InProcessTransport(), logger: false },
    );
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await tracking?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function trainOnce(env: Record<string, string>) {
    const transport = new InProcessTransport();
    const app = await startTrainer(
      loadTrainerConfig({ TRAINER_PORT: '0', TRAINER_ARTIFACT_ROOT: join(dir, `models-${apps.length}`), TRACKING_URI: tracking.url, ...env }),
      { inProcess: transport, logger: false },
    );
    apps.push(app);
    const events: AnyEvent[] = [];
    await new EventBus(transport).subscribe({ group: 'observer', topics: ['training.completed', 'training.failed'], handle: async (m) => void events.push(decodeEvent(m.value)) });
    const { job, done } = app.service.submit({ model: 'churn', datasetUri: dataset.path, params: { epochs: 200 } });
    await done;
    const outcome = await waitFor(() => events.find((e) => (e.data as { jobId?: string }).jobId === job.jobId), 'training outcome');
    expect(outcome.type, JSON.stringify(outcome.data)).toBe('training.completed');
    return outcome as EventEnvelope<'training.completed'>;
  }

  async function readBack(runId: string) {
    const rows = dataset.rows.slice(0, 20);
    const { stdout } = await run(interopPython(), [LOAD_SCRIPT], {
      env: { ...process.env, MLFLOW_TRACKING_URI: tracking.url, RUN_ID: runId, ROWS: JSON.stringify(rows.map((r) => [r.x1, r.x2])), MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0' },
      timeout: 120_000,
      cwd: dir,
    });
    return { client: JSON.parse(stdout.trim().split('\n').at(-1)!), expected: rows.map((r) => r.label) };
  }

  it.each([
    ['built-in', {}],
    ['external (scikit-learn + skl2onnx)', { TRAINER_COMMAND: `${interopPython()} ${SKLEARN_TRAINER}` }],
  ])('%s: the run shows its logged model, which mlflow.onnx loads and onnxruntime runs', { timeout: 180_000 }, async (_kind, env) => {
    const completed = await trainOnce(env as Record<string, string>);
    const { runId, loggedModel } = completed.data;
    expect(loggedModel).toEqual({
      modelId: expect.stringMatching(/^m-[0-9a-f]{32}$/),
      uri: `models:/${loggedModel!.modelId}`,
      artifactUri: expect.stringMatching(new RegExp(`^mlflow-artifacts:/\\d+/models/${loggedModel!.modelId}/artifacts$`)),
    });
    const { client, expected } = await readBack(runId);
    expect(client).toMatchObject({
      model_ids: [loggedModel!.modelId],
      status: 'READY',
      name: 'model',
      source_run_id: runId,
      run_files: ['model'],
      run_model_files: expect.arrayContaining(['model/MLmodel', 'model/model.onnx']),
      model_files: ['MLmodel', 'model.onnx'],
      same_graph: true,
      flavors: ['onnx', 'python_function'],
      metadata: { feature_names: ['x1', 'x2'] },
      signature_inputs: [{ name: 'input', type: 'tensor', 'tensor-spec': { dtype: 'float32', shape: [-1, 2] } }],
    });
    // A separable dataset: the model gets (nearly) every row right, in onnxruntime and through pyfunc alike.
    const right = client.labels.filter((label: number, i: number) => label === expected[i]).length;
    expect(right).toBeGreaterThanOrEqual(18);
    expect(client.pyfunc_labels).toEqual(client.labels);

    // Through our HTTP API: the run's outputs name the model and its artifacts are listed.
    const got = (await fetch(`${tracking.url}/api/2.0/mlflow/runs/get?run_id=${runId}`).then((r) => r.json())) as { run: { outputs: unknown; data: { tags: { key: string }[] } } };
    expect(got.run.outputs).toEqual({ model_outputs: [{ model_id: loggedModel!.modelId, step: 0 }] });
    expect(got.run.data.tags.map((t) => t.key)).toEqual(expect.arrayContaining(['mlops.job_id', 'mlops.artifact_uri', 'mlflow.source.git.commit']));
    const listed = (await fetch(`${tracking.url}/api/2.0/mlflow/artifacts/list?run_id=${runId}&path=model`).then((r) => r.json())) as { files: { path: string }[] };
    expect(listed.files.map((f) => f.path)).toEqual(['model/MLmodel', 'model/model.onnx']);
  });
});
