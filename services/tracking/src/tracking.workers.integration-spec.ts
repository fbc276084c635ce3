import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ServiceProcess } from '../../../test/support/service-process';

/**
 * TRACKING_WORKERS=3 on one SQLite file: three processes take log-batches for the same run
 * at once. Every batch must be stored whole or not at all, none lost, whichever worker took it.
 */
describe('tracking with several worker processes on one SQLite file', () => {
  const WORKERS = 3;
  let dir: string;
  let tracking: ServiceProcess;
  let url: string;

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Json = any;
  const post = (path: string, body: unknown): Promise<{ status: number; body: Json }> =>
    fetch(`${url}/api/2.0/mlflow/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: await r.json() }));
  const get = (path: string, query: Record<string, string>): Promise<Json> =>
    fetch(`${url}/api/2.0/mlflow/${path}?${new URLSearchParams(query)}`).then((r) => r.json());
  const newRun = async (name: string): Promise<string> => {
    const experiment = await post('experiments/create', { name });
    const run = await post('runs/create', { experiment_id: experiment.body.experiment_id, start_time: 1 });
    return run.body.run.info.run_id;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tracking-workers-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    tracking = new ServiceProcess('tracking', {
      TRACKING_WORKERS: String(WORKERS),
      TRACKING_PORT: String(port),
      TRACKING_HOST: '127.0.0.1',
      BUS: 'in-process',
      DATABASE_URL: `sqlite:${join(dir, 'tracking.db')}`,
      TRACKING_ARTIFACT_ROOT: join(dir, 'artifacts'),
    });
    tracking.start();
    await tracking.waitUntilReady(`${url}/health/ready`);
    // Ready answers as soon as the first worker listens; the others follow it.
    const started = () => tracking.output.join('').match(/tracking listening on/g)?.length ?? 0;
    for (let i = 0; i < 100 && started() < WORKERS; i++) await new Promise((r) => setTimeout(r, 100));
  });
  afterAll(async () => {
    await tracking?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts the configured number of workers on one port', () => {
    expect(tracking.output.join('').match(/tracking listening on/g)).toHaveLength(WORKERS);
  });

  it('keeps every metric of concurrent log-batches to the same run, and the true latest value', async () => {
    const runId = await newRun('workers-concurrent');
    const clients = 8;
    const batchesPerClient = 6;
    const stepsPerBatch = 50; // x 2 keys = 100 metrics per request
    const batch = (n: number) => ({
      run_id: runId,
      metrics: Array.from({ length: stepsPerBatch }, (_, s) => {
        const step = n * stepsPerBatch + s;
        return [
          { key: 'loss', value: 1 / (step + 1), timestamp: 1000 + step, step },
          { key: 'acc', value: step / 1000, timestamp: 1000 + step, step },
        ];
      }).flat(),
      params: [{ key: 'lr', value: '0.01' }],
    });
    const statuses = await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        const seen: number[] = [];
        for (let b = 0; b < batchesPerClient; b++) seen.push((await post('runs/log-batch', batch(c * batchesPerClient + b))).status);
        return seen;
      }),
    );
    expect(statuses.flat()).toEqual(Array(clients * batchesPerClient).fill(200));

    const total = clients * batchesPerClient * stepsPerBatch;
    for (const key of ['loss', 'acc']) {
      const history = await get('metrics/get-history', { run_id: runId, metric_key: key });
      const steps = history.metrics.map((m: { step: number }) => m.step);
      expect(steps).toEqual(Array.from({ length: total }, (_, i) => i));
    }
    const run = (await get('runs/get', { run_id: runId })).run;
    expect(run.data.metrics).toEqual([
      { key: 'acc', value: (total - 1) / 1000, timestamp: 1000 + total - 1, step: total - 1 },
      { key: 'loss', value: 1 / total, timestamp: 1000 + total - 1, step: total - 1 },
    ]);
    expect(run.data.params).toEqual([{ key: 'lr', value: '0.01' }]);
  });

  it('lets exactly one of several concurrent batches set a param, and stores nothing of the rejected ones', async () => {
    const runId = await newRun('workers-param-race');
    const contenders = 8;
    const replies = await Promise.all(
      Array.from({ length: contenders }, (_, i) =>
        post('runs/log-batch', {
          run_id: runId,
          params: [{ key: 'seed', value: String(i) }],
          metrics: [{ key: 'from', value: i, timestamp: 1, step: i }],
        }),
      ),
    );
    const winners = replies.flatMap((r, i) => (r.status === 200 ? [i] : []));
    expect(winners).toHaveLength(1);
    for (const loser of replies.filter((r) => r.status !== 200)) {
      expect(loser).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE' } });
    }
    const run = (await get('runs/get', { run_id: runId })).run;
    expect(run.data.params).toEqual([{ key: 'seed', value: String(winners[0]) }]);
    const history = await get('metrics/get-history', { run_id: runId, metric_key: 'from' });
    expect(history.metrics.map((m: { value: number }) => m.value)).toEqual([winners[0]]);
  });
});
