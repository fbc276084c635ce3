import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus, InProcessTransport, type Subscription } from '@mlops/bus';
import { ConfigError } from '@mlops/config';
import { decodeEvent, type EventEnvelope } from '@mlops/contracts';
import { waitFor } from '../../../test/support/wait-for';
import { startTracking, type TrackingApp } from './tracking.app';
import { loadTrackingConfig } from './tracking.config';

describe('tracking service (embedded: in-process bus, SQLite, MLflow REST API)', () => {
  let transport: InProcessTransport;
  let tracking: TrackingApp;
  let subscription: Subscription;
  let artifactRoot: string;
  const finished: EventEnvelope<'run.finished'>[] = [];

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Reply = { status: number; body: any };
  const call = (method: string, path: string, body?: unknown, prefix = '/api/2.0/mlflow'): Promise<Reply> =>
    fetch(`${tracking.url}${prefix}${path}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: await r.json() }));
  const post = (path: string, body: unknown) => call('POST', path, body);
  const get = (path: string, query: Record<string, string> = {}) => call('GET', `${path}?${new URLSearchParams(query)}`);

  const newExperiment = async (name: string) => {
    const created = await post('/experiments/create', { name });
    expect(created.status).toBe(200);
    return created.body.experiment_id as string;
  };
  const newRun = async (experimentId: string, extra: Record<string, unknown> = {}) => {
    const created = await post('/runs/create', { experiment_id: experimentId, start_time: Date.now(), ...extra });
    expect(created.status).toBe(200);
    return created.body.run.info.run_id as string;
  };

  beforeAll(async () => {
    artifactRoot = mkdtempSync(join(tmpdir(), 'tracking-artifacts-'));
    transport = new InProcessTransport();
    tracking = await startTracking(
      loadTrackingConfig({ DATABASE_URL: 'sqlite::memory:', TRACKING_PORT: '0', TRACKING_ARTIFACT_ROOT: artifactRoot }),
      { inProcess: transport, logger: false },
    );
    subscription = await new EventBus(transport).subscribe({
      group: 'observer',
      topics: ['run.finished'],
      handle: async (m) => {
        const event = decodeEvent(m.value);
        if (event.type === 'run.finished') finished.push(event);
      },
    });
  });
  afterAll(async () => {
    await subscription.stop();
    await tracking.close();
    rmSync(artifactRoot, { recursive: true, force: true });
  });

  it('has the Default experiment 0 and creates, gets and finds experiments by name with proxied artifact locations', async () => {
    const zero = await get('/experiments/get', { experiment_id: '0' });
    expect(zero.body.experiment).toMatchObject({ experiment_id: '0', name: 'Default', artifact_location: 'mlflow-artifacts:/0', lifecycle_stage: 'active' });
    const created = await post('/experiments/create', { name: 'exp-a', tags: [{ key: 'team', value: 'ml' }] });
    expect(created).toMatchObject({ status: 200, body: { experiment_id: expect.stringMatching(/^[1-9]\d*$/) } });
    const id = created.body.experiment_id;
    const byName = await get('/experiments/get-by-name', { experiment_name: 'exp-a' });
    expect(byName.body.experiment).toMatchObject({
      experiment_id: id,
      name: 'exp-a',
      artifact_location: `mlflow-artifacts:/${id}`,
      tags: [{ key: 'team', value: 'ml' }],
    });
    expect(typeof byName.body.experiment.creation_time).toBe('number');
    const again = await post('/experiments/create', { name: 'exp-a' });
    expect(again).toMatchObject({ status: 400, body: { error_code: 'RESOURCE_ALREADY_EXISTS' } });
    expect(await get('/experiments/get-by-name', { experiment_name: 'nope' })).toMatchObject({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST' } });
    expect(await get('/experiments/get', { experiment_id: '999' })).toMatchObject({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST' } });
    expect(await post('/experiments/create', { name: '' })).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE' } });
    const search = await post('/experiments/search', { max_results: 10, filter: "name = 'exp-a'" });
    expect(search.body.experiments.map((e: { name: string }) => e.name)).toEqual(['exp-a']);
  });

  it('creates, gets and ends runs with MLflow field names, and publishes run.finished with the latest metrics', async () => {
    const experimentId = await newExperiment('exp-runs');
    const created = await post('/runs/create', {
      experiment_id: experimentId,
      user_id: 'alice',
      start_time: 1_700_000_000_000,
      tags: [{ key: 'mlflow.runName', value: 'first' }, { key: 'source', value: 'unit' }],
    });
    const info = created.body.run.info;
    expect(info).toMatchObject({
      run_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      run_name: 'first',
      experiment_id: experimentId,
      user_id: 'alice',
      status: 'RUNNING',
      start_time: 1_700_000_000_000,
      lifecycle_stage: 'active',
      artifact_uri: `mlflow-artifacts:/${experimentId}/${info.run_id}/artifacts`,
    });
    expect(info.run_uuid).toBe(info.run_id);
    expect(info.end_time).toBeUndefined();
    await post('/runs/log-metric', { run_id: info.run_id, key: 'loss', value: 0.9, timestamp: 1, step: 0 });
    await post('/runs/log-metric', { run_id: info.run_id, key: 'loss', value: 0.2, timestamp: 3, step: 2 });
    await post('/runs/log-metric', { run_id: info.run_id, key: 'loss', value: 0.5, timestamp: 2, step: 1 });

    const ended = await post('/runs/update', { run_id: info.run_id, status: 'FINISHED', end_time: 1_700_000_100_000 });
    expect(ended.body.run_info).toMatchObject({ status: 'FINISHED', end_time: 1_700_000_100_000 });
    const event = await waitFor(() => finished.find((e) => e.data.runId === info.run_id), 'run.finished');
    expect(event).toMatchObject({ source: 'tracking', subject: info.run_id, data: { experimentId, status: 'FINISHED', metrics: { loss: 0.2 } } });

    const run = (await get('/runs/get', { run_id: info.run_id })).body.run;
    expect(run.info).toMatchObject({ status: 'FINISHED', end_time: 1_700_000_100_000 });
    expect(run.data.tags).toEqual(expect.arrayContaining([{ key: 'source', value: 'unit' }, { key: 'mlflow.runName', value: 'first' }]));
    expect((await get('/runs/get', { run_id: 'f'.repeat(32) })).body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((await post('/runs/create', { experiment_id: '12345' })).status).toBe(404);
    expect((await post('/runs/update', { run_id: info.run_id, status: 'DONE' })).body.error_code).toBe('INVALID_PARAMETER_VALUE');

    const failed = await newRun(experimentId, { run_name: 'second' });
    await post('/runs/update', { run_uuid: failed, status: 'FAILED' });
    const failure = await waitFor(() => finished.find((e) => e.data.runId === failed), 'the FAILED run.finished');
    expect(failure.data).toMatchObject({ status: 'FAILED', metrics: {} });
    expect(finished.filter((e) => e.data.runId === failed)).toHaveLength(1);
  });

  it('logs params, tags and metrics with steps; keeps history and the latest value by step', async () => {
    const runId = await newRun(await newExperiment('exp-log'));
    for (const [step, value] of [[0, 0.5], [1, 0.7], [2, 0.65]]) {
      expect((await post('/runs/log-metric', { run_id: runId, key: 'acc', value, timestamp: 1000 + step, step })).status).toBe(200);
    }
    await post('/runs/log-metric', { run_id: runId, key: 'odd', value: 'NaN', timestamp: 5 });
    expect((await post('/runs/log-parameter', { run_id: runId, key: 'lr', value: '0.01' })).status).toBe(200);
    expect((await post('/runs/log-parameter', { run_id: runId, key: 'lr', value: '0.01' })).status).toBe(200);
    const changed = await post('/runs/log-parameter', { run_id: runId, key: 'lr', value: '0.1' });
    expect(changed).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE' } });
    await post('/runs/set-tag', { run_id: runId, key: 'stage', value: 'dev' });
    await post('/runs/set-tag', { run_id: runId, key: 'stage', value: 'prod' });
    await post('/runs/set-tag', { run_id: runId, key: 'tmp', value: 'x' });
    expect((await post('/runs/delete-tag', { run_id: runId, key: 'tmp' })).status).toBe(200);

    const history = await get('/metrics/get-history', { run_id: runId, metric_key: 'acc' });
    expect(history.body.metrics).toEqual([
      { key: 'acc', value: 0.5, timestamp: 1000, step: 0 },
      { key: 'acc', value: 0.7, timestamp: 1001, step: 1 },
      { key: 'acc', value: 0.65, timestamp: 1002, step: 2 },
    ]);
    const page = await get('/metrics/get-history', { run_id: runId, metric_key: 'acc', max_results: '2' });
    expect(page.body.metrics).toHaveLength(2);
    const rest = await get('/metrics/get-history', { run_id: runId, metric_key: 'acc', max_results: '2', page_token: page.body.next_page_token });
    expect(rest.body.metrics.map((m: { step: number }) => m.step)).toEqual([2]);
    expect(rest.body.next_page_token).toBeUndefined();

    const run = (await get('/runs/get', { run_id: runId })).body.run;
    expect(run.data.metrics).toEqual([
      { key: 'acc', value: 0.65, timestamp: 1002, step: 2 },
      { key: 'odd', value: 'NaN', timestamp: 5, step: 0 },
    ]);
    expect(run.data.params).toEqual([{ key: 'lr', value: '0.01' }]);
    expect(run.data.tags).toEqual(expect.arrayContaining([{ key: 'stage', value: 'prod' }]));
    expect(run.data.tags.find((t: { key: string }) => t.key === 'tmp')).toBeUndefined();

    const badKey = await post('/runs/log-metric', { run_id: runId, key: '../escape', value: 1, timestamp: 1 });
    expect(badKey).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE' } });
    const noValue = await post('/runs/log-metric', { run_id: runId, key: 'x', timestamp: 1 });
    expect(noValue).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE' } });
    const unknownRun = await post('/runs/log-metric', { run_id: 'nope', key: 'x', value: 1, timestamp: 1 });
    expect(unknownRun).toMatchObject({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST' } });
  });

  it('log-batch writes all or nothing and enforces MLflow limits (1000 metrics, 100 params, 100 tags)', async () => {
    const runId = await newRun(await newExperiment('exp-batch'));
    const metrics = Array.from({ length: 1000 }, (_, i) => ({ key: `m${i % 10}`, value: i, timestamp: 10_000 + i, step: Math.floor(i / 10) }));
    expect(await post('/runs/log-batch', { run_id: runId, metrics })).toMatchObject({ status: 200, body: {} });
    const params = Array.from({ length: 100 }, (_, i) => ({ key: `p${i}`, value: String(i) }));
    const tags = Array.from({ length: 100 }, (_, i) => ({ key: `t${i}`, value: 'v' }));
    expect(await post('/runs/log-batch', { run_id: runId, params, tags })).toMatchObject({ status: 200, body: {} });
    const history = await get('/metrics/get-history', { run_id: runId, metric_key: 'm3' });
    expect(history.body.metrics).toHaveLength(100);
    const run = (await get('/runs/get', { run_id: runId })).body.run;
    expect(run.data.params).toHaveLength(100);
    expect(run.data.metrics.find((m: { key: string }) => m.key === 'm3')).toEqual({ key: 'm3', value: 993, timestamp: 10_993, step: 99 });

    const over = [
      { metrics: [...metrics, metrics[0]] },
      { params: Array.from({ length: 101 }, (_, i) => ({ key: `q${i}`, value: 'v' })) },
      { tags: Array.from({ length: 101 }, (_, i) => ({ key: `t${i}`, value: 'v' })) },
      { metrics: metrics.slice(0, 950), params: params.slice(0, 51) }, // 1001 entities in all
    ];
    for (const batch of over) {
      const response = await post('/runs/log-batch', { run_id: runId, ...batch });
      expect(response).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringMatching(/at most/) } });
    }
    // A param conflict rolls back the metrics and tags of the same batch.
    const conflicting = await post('/runs/log-batch', {
      run_id: runId,
      metrics: [{ key: 'rolled', value: 1, timestamp: 1, step: 0 }],
      params: [{ key: 'p1', value: 'different' }],
      tags: [{ key: 'rolled', value: 'back' }],
    });
    expect(conflicting.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    const after = (await get('/runs/get', { run_id: runId })).body.run;
    expect(after.data.metrics.find((m: { key: string }) => m.key === 'rolled')).toBeUndefined();
    expect(after.data.tags.find((t: { key: string }) => t.key === 'rolled')).toBeUndefined();
    expect((await get('/metrics/get-history', { run_id: runId, metric_key: 'rolled' })).body.metrics).toEqual([]);
  });

  it('searches runs with metric, param, tag and attribute filters, order_by and paging', async () => {
    const experimentId = await newExperiment('exp-search');
    const runs: string[] = [];
    for (let i = 0; i < 5; i++) {
      const runId = await newRun(experimentId, { start_time: 1_000 + i, run_name: `r${i}` });
      runs.push(runId);
      await post('/runs/log-batch', {
        run_id: runId,
        metrics: [{ key: 'acc', value: i / 5, timestamp: 1, step: 0 }],
        params: [{ key: 'model', value: i % 2 ? 'tree' : 'linear' }],
        tags: [{ key: 'team', value: i < 3 ? 'a' : 'b' }],
      });
      if (i % 2 === 0) await post('/runs/update', { run_id: runId, status: 'FINISHED' });
    }
    const noMetric = await newRun(experimentId, { start_time: 999 });
    const search = (body: Record<string, unknown>) => post('/runs/search', { experiment_ids: [experimentId], ...body });
    const names = (reply: Reply) => reply.body.runs.map((r: { info: { run_name: string } }) => r.info.run_name);

    expect(names(await search({ filter: 'metrics.acc > 0.5' }))).toEqual(['r4', 'r3']);
    expect(names(await search({ filter: "params.model = 'tree'", order_by: ['attributes.start_time ASC'] }))).toEqual(['r1', 'r3']);
    expect(names(await search({ filter: "tags.team = 'a'", order_by: ['metrics.acc DESC'] }))).toEqual(['r2', 'r1', 'r0']);
    expect(names(await search({ filter: "attributes.status = 'FINISHED'", order_by: ['metrics.acc DESC'] }))).toEqual(['r4', 'r2', 'r0']);
    expect(names(await search({ filter: "tags.team = 'a' AND attributes.status = 'FINISHED'", order_by: ['metrics.acc DESC'] }))).toEqual(['r2', 'r0']);
    expect(names(await search({ filter: "metrics.acc >= 0.2 AND params.model != 'tree' AND tags.team = 'b'" }))).toEqual(['r4']);
    expect(names(await search({ filter: "attributes.run_name LIKE 'r%'", order_by: ['metrics.acc ASC'] }))).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
    expect(names(await search({ filter: `attributes.run_id IN ('${runs[1]}', '${runs[2]}')`, order_by: ['attributes.start_time'] }))).toEqual(['r1', 'r2']);
    expect(names(await search({ filter: "metrics.acc > 0.7 OR params.model = 'tree'", order_by: ['metrics.acc DESC'] }))).toEqual(['r4', 'r3', 'r1']);
    expect(names(await search({ filter: "(metrics.acc < 0.1 OR metrics.acc > 0.7) AND tags.team = 'b'" }))).toEqual(['r4']);
    const byMetric = await search({ order_by: ['metrics.acc DESC'] });
    expect(byMetric.body.runs.map((r: { info: { run_id: string } }) => r.info.run_id).at(-1)).toBe(noMetric);

    const first = await search({ max_results: 2 });
    expect(names(first)).toEqual(['r4', 'r3']);
    expect(first.body.next_page_token).toEqual(expect.any(String));
    const second = await search({ max_results: 2, page_token: first.body.next_page_token });
    expect(names(second)).toEqual(['r2', 'r1']);
    const last = await search({ max_results: 2, page_token: second.body.next_page_token });
    expect(last.body.runs).toHaveLength(2);
    expect(last.body.next_page_token).toBeUndefined();

    for (const filter of ['metrics.acc > ', "metrics.acc = 'x'", 'bogus.acc > 1', 'metrics.acc > 1 OR', "params.model > 'a'"]) {
      expect((await search({ filter })).body.error_code, filter).toBe('INVALID_PARAMETER_VALUE');
    }
    expect((await search({ order_by: ['nothing.x DESC'] })).status).toBe(400);
    expect((await search({ max_results: 50_001 })).status).toBe(400);
    expect((await search({ page_token: 'garbage!' })).status).toBe(400);
  });

  it('proxies artifacts (mlflow-artifacts PUT/GET/list) under the artifact root and lists them per run', async () => {
    const runId = await newRun(await newExperiment('exp-art'));
    const run = (await get('/runs/get', { run_id: runId })).body.run;
    const root = run.info.artifact_uri.replace('mlflow-artifacts:/', '');
    const base = `${tracking.url}/api/2.0/mlflow-artifacts/artifacts/${root}`;
    const put = await fetch(`${base}/model/weights.json`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"w":[1,2]}' });
    expect(put.status).toBe(200);
    await fetch(`${base}/notes.txt`, { method: 'PUT', body: 'hello' });
    const download = await fetch(`${base}/model/weights.json`);
    expect(await download.text()).toBe('{"w":[1,2]}');
    const missing = await fetch(`${base}/nope.txt`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error_code: string }).error_code).toBe('RESOURCE_DOES_NOT_EXIST');

    const proxyList = await call('GET', `/artifacts?path=${encodeURIComponent(root)}`, undefined, '/api/2.0/mlflow-artifacts');
    expect(proxyList.body.files).toEqual([
      { path: 'model', is_dir: true },
      { path: 'notes.txt', is_dir: false, file_size: 5 },
    ]);
    const listed = await get('/artifacts/list', { run_id: runId });
    expect(listed.body).toEqual({
      root_uri: run.info.artifact_uri,
      files: [
        { path: 'model', is_dir: true },
        { path: 'notes.txt', is_dir: false, file_size: 5 },
      ],
    });
    const nested = await get('/artifacts/list', { run_id: runId, path: 'model' });
    expect(nested.body.files).toEqual([{ path: 'model/weights.json', is_dir: false, file_size: 11 }]);
  });

  it('rejects artifact paths that escape the artifact root', async () => {
    const raw = (method: string, path: string, body?: string) =>
      new Promise<number>((done, fail) => {
        const url = new URL(tracking.url);
        const req = httpRequest({ host: url.hostname, port: url.port, method, path }, (res) => {
          res.resume();
          done(res.statusCode!);
        });
        req.on('error', fail);
        req.end(body);
      });
    const prefix = '/api/2.0/mlflow-artifacts/artifacts';
    expect(await raw('PUT', `${prefix}/../../escape.txt`, 'x')).toBe(400);
    expect(await raw('PUT', `${prefix}/1/..%2f..%2f..%2fescape.txt`, 'x')).toBe(400);
    expect(await raw('PUT', `${prefix}/%2e%2e/escape.txt`, 'x')).toBe(400);
    expect(await raw('GET', `${prefix}/1/..%2F..%2F..%2F..%2Fetc%2Fpasswd`)).toBe(400);
    expect(await raw('GET', `${prefix}?path=..%2F..`)).toBe(400);
    expect(await raw('GET', `${prefix}?path=%2Fetc`)).toBe(400);
    // A name longer than the filesystem stores (found by the fuzzer: it was a 500 ENAMETOOLONG).
    expect(await raw('PUT', `${prefix}/1/${'n'.repeat(256)}.txt`, 'x')).toBe(400);
    expect(await raw('PUT', `${prefix}/1/${'n'.repeat(251)}.txt`, 'x')).toBe(200);
    const runId = await newRun('0');
    expect((await get('/artifacts/list', { run_id: runId, path: '../..' })).status).toBe(400);
  });

  it('serves the /ajax-api alias, answers unknown routes with ENDPOINT_NOT_FOUND, and reports readiness', async () => {
    const alias = await call('GET', '/experiments/get?experiment_id=0', undefined, '/ajax-api/2.0/mlflow');
    expect(alias.body.experiment.name).toBe('Default');
    expect(await call('GET', '/nothing/here')).toMatchObject({ status: 404, body: { error_code: 'ENDPOINT_NOT_FOUND' } });
    const malformed = await fetch(`${tracking.url}/api/2.0/mlflow/runs/create`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{bad' });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error_code: string }).error_code).toBe('MALFORMED_REQUEST');
    expect((await fetch(`${tracking.url}/health`)).status).toBe(200);
    expect(((await (await fetch(`${tracking.url}/health/ready`)).json()) as { status: string }).status).toBe('ok');
  });

  it('refuses logging to a deleted run and hides deleted runs from search', async () => {
    const experimentId = await newExperiment('exp-deleted');
    const runId = await newRun(experimentId);
    expect((await post('/runs/delete', { run_id: runId })).status).toBe(200);
    expect((await post('/runs/log-metric', { run_id: runId, key: 'a', value: 1, timestamp: 1 })).body.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect((await post('/runs/search', { experiment_ids: [experimentId] })).body.runs).toEqual([]);
    const all = await post('/runs/search', { experiment_ids: [experimentId], run_view_type: 'ALL' });
    expect(all.body.runs).toHaveLength(1);
  });
});

describe('tracking config', () => {
  it('starts with an empty environment (embedded defaults, MLflow port)', () => {
    expect(loadTrackingConfig({})).toMatchObject({
      BUS: 'in-process',
      TRACKING_PORT: 5000,
      TRACKING_HOST: '127.0.0.1',
      DATABASE_URL: 'sqlite:.mlops/tracking.db',
      TRACKING_ARTIFACT_ROOT: '.mlops/artifacts',
      TRACKING_WORKERS: 1,
      TRACKING_SQLITE_SYNCHRONOUS: 'NORMAL',
    });
  });

  it('stops start-up naming each bad variable', () => {
    let error: unknown;
    try {
      loadTrackingConfig({ BUS: 'kafka', TRACKING_PORT: 'x', DATABASE_URL: 'mysql://h/db' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable).sort()).toEqual(['DATABASE_URL', 'KAFKA_BROKERS', 'TRACKING_PORT']);
  });

  it('takes a worker count and an SQLite sync mode, and rejects what it cannot run', () => {
    expect(loadTrackingConfig({ TRACKING_WORKERS: '4', TRACKING_SQLITE_SYNCHRONOUS: 'FULL' })).toMatchObject({
      TRACKING_WORKERS: 4,
      TRACKING_SQLITE_SYNCHRONOUS: 'FULL',
    });
    let error: unknown;
    try {
      loadTrackingConfig({ TRACKING_WORKERS: '0', TRACKING_SQLITE_SYNCHRONOUS: 'OFF' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable).sort()).toEqual(['TRACKING_SQLITE_SYNCHRONOUS', 'TRACKING_WORKERS']);
  });
});
