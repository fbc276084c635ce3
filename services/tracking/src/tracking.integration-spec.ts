import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { observeKafka, type KafkaKitOptions, type Subscription } from '@mlops/bus';
import { infraEnv } from '../../../test/infra/infra-env';
import { interopPython } from '../../../test/support/python';
import { freePort, ServiceProcess } from '../../../test/support/service-process';
import { waitFor } from '../../../test/support/wait-for';

const run = promisify(execFile);
const SCRIPT = resolve(__dirname, '../../../test/interop/tracking/mlflow_client.py');

interface RunFinished {
  id: string;
  data: { runId: string; experimentId: string; status: string; metrics: Record<string, number> };
}

/** The unmodified mlflow Python client against the production entry point on Postgres and Kafka. */
describe('tracking with the official mlflow client (own process, Postgres, Kafka)', () => {
  const infra = infraEnv();
  const kafka: KafkaKitOptions = { clientId: 'tracking-it', brokers: infra.KAFKA_BROKERS.split(','), logLevel: 'warn' };
  const finished: RunFinished[] = [];
  let consumer: Subscription;
  let tracking: ServiceProcess;
  let url: string;
  let artifactRoot: string;

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const api = async (method: string, path: string, body?: unknown): Promise<any> => {
    const response = await fetch(`${url}/api/2.0/mlflow${path}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await response.json();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  };

  beforeAll(async () => {
    const python = interopPython(); // creates the venv (pip) before any timing matters
    expect(python).toBeTruthy();
    artifactRoot = mkdtempSync(join(tmpdir(), 'tracking-it-artifacts-'));
    consumer = await observeKafka(kafka, { group: `tracking-it-${randomUUID()}`, topics: ['run.finished'] }, ({ value }) => {
      finished.push(JSON.parse(value.toString()));
    });

    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    tracking = new ServiceProcess('tracking', {
      BUS: 'kafka',
      KAFKA_BROKERS: infra.KAFKA_BROKERS,
      DATABASE_URL: infra.DATABASE_URL,
      TRACKING_PORT: String(port),
      TRACKING_ARTIFACT_ROOT: artifactRoot,
      INSTANCE_ID: `it-${randomUUID()}`,
    });
    tracking.start();
    await tracking.waitUntilReady(`${url}/health/ready`);
  });
  afterAll(async () => {
    await consumer?.stop();
    await tracking?.stop();
    rmSync(artifactRoot, { recursive: true, force: true });
  });

  it('logs a full run through the mlflow client and reads it back through the client and our HTTP API', async () => {
    // An experiment and a run made through our HTTP API: the client must see both.
    const experimentName = `interop-${randomUUID().slice(0, 8)}`;
    const { experiment_id: experimentId } = await api('POST', '/experiments/create', { name: experimentName });
    const httpRun = (await api('POST', '/runs/create', { experiment_id: experimentId, run_name: 'from-http', start_time: Date.now() })).run.info;
    await api('POST', '/runs/log-batch', {
      run_id: httpRun.run_id,
      metrics: [{ key: 'rmse', value: 1.5, timestamp: Date.now(), step: 0 }],
      params: [{ key: 'origin', value: 'http' }],
      tags: [{ key: 'made-by', value: 'typescript' }],
    });

    let stdout: string;
    try {
      ({ stdout } = await run(interopPython(), [SCRIPT], {
        env: {
          ...process.env,
          MLFLOW_TRACKING_URI: url,
          EXPERIMENT_NAME: experimentName,
          HTTP_RUN_ID: httpRun.run_id,
          MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0',
          MLFLOW_HTTP_REQUEST_TIMEOUT: '30',
        },
        timeout: 60_000,
      }));
    } catch (error) {
      throw new Error(`${(error as Error).message}\nservice output:\n${tracking.output.join('').slice(-3_000)}`);
    }
    const client = JSON.parse(stdout.trim().split('\n').at(-1)!);

    // What the client read back.
    expect(client).toMatchObject({
      experiment_id: experimentId,
      artifact_location: `mlflow-artifacts:/${experimentId}`,
      status: 'FINISHED',
      artifact_uri: `mlflow-artifacts:/${experimentId}/${client.run_id}/artifacts`,
      params: { model: 'logreg', lr: '0.01', epochs: '3', batch_p: 'x' },
      metrics: { acc: 0.9, loss: 0.25, f1: 0.8, batch_m: 4 },
      tags: { stage: 'interop', batch_t: 'y', 'mlflow.runName': 'interop-run' },
      history: [[0, 0.5], [1, 0.7], [2, 0.9]],
      batch_history: [[0, 0], [1, 1], [2, 2], [3, 3], [4, 4]],
      search: [client.run_id],
      ordered: ['low-acc', 'interop-run', 'from-http'],
      artifacts: [['notes.txt', false], ['sub', true]],
      nested_artifacts: [['sub/dir/notes.txt', 17]],
      downloaded: 'hello from mlflow',
      param_change_error: 'INVALID_PARAMETER_VALUE',
      http_run: {
        name: 'from-http',
        params: { origin: 'http' },
        metrics: { rmse: 1.5 },
        tags: { 'made-by': 'typescript', 'mlflow.runName': 'from-http' },
      },
    });
    expect(client.end_time).toBeGreaterThan(0);

    // The same data through our HTTP API.
    const { run: stored } = await api('GET', `/runs/get?run_id=${client.run_id}`);
    expect(stored.info).toMatchObject({ run_id: client.run_id, run_uuid: client.run_id, experiment_id: experimentId, status: 'FINISHED' });
    expect(stored.data.params).toEqual(
      expect.arrayContaining([{ key: 'model', value: 'logreg' }, { key: 'lr', value: '0.01' }, { key: 'batch_p', value: 'x' }]),
    );
    expect(stored.data.metrics).toEqual(expect.arrayContaining([expect.objectContaining({ key: 'acc', value: 0.9, step: 2 })]));
    const history = await api('GET', `/metrics/get-history?run_id=${client.run_id}&metric_key=acc`);
    expect(history.metrics.map((m: { step: number; value: number }) => [m.step, m.value])).toEqual([[0, 0.5], [1, 0.7], [2, 0.9]]);
    const search = await api('POST', '/runs/search', {
      experiment_ids: [experimentId],
      filter: "metrics.acc < 0.5 AND attributes.status = 'FAILED'",
    });
    expect(search.runs.map((r: { info: { run_id: string } }) => r.info.run_id)).toEqual([client.other_run_id]);
    const artifacts = await api('GET', `/artifacts/list?run_id=${client.run_id}&path=sub/dir`);
    expect(artifacts.files).toEqual([{ path: 'sub/dir/notes.txt', is_dir: false, file_size: 17 }]);
    const file = await fetch(`${url}/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${client.run_id}/artifacts/notes.txt`);
    expect(await file.text()).toBe('hello from mlflow');

    // Ending the runs published run.finished with their latest metrics on Kafka.
    const done = await waitFor(() => finished.find((e) => e.data.runId === client.run_id), 'run.finished on Kafka', 20_000);
    expect(done.data).toMatchObject({ experimentId, status: 'FINISHED', metrics: { acc: 0.9, loss: 0.25, f1: 0.8, batch_m: 4 } });
    const failed = await waitFor(() => finished.find((e) => e.data.runId === client.other_run_id), 'the FAILED run.finished', 20_000);
    expect(failed.data).toMatchObject({ status: 'FAILED', metrics: { acc: 0.1 } });
  });
});
