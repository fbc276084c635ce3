import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessTransport } from '@mlops/bus';
import { startTracking, type TrackingApp } from './tracking.app';
import { loadTrackingConfig } from './tracking.config';

/** The MLflow 3 routes over HTTP: logged models, run inputs/outputs, experiment tags and rename; errors in MLflow's shape. */
describe('tracking MLflow 3 routes (embedded: SQLite, HTTP)', () => {
  let tracking: TrackingApp;
  let artifactRoot: string;

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Reply = { status: number; body: any };
  const call = (method: string, path: string, body?: unknown): Promise<Reply> =>
    fetch(`${tracking.url}/api/2.0/mlflow${path}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: await r.json() }));
  const post = (path: string, body: unknown) => call('POST', path, body);
  /** A 400 INVALID_PARAMETER_VALUE whose message names the field. */
  const invalidNaming = (field: string) => ({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining(field) } });
  const notFound = { status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: expect.any(String) } };

  const newExperiment = async (name: string) => (await post('/experiments/create', { name })).body.experiment_id as string;
  const newRun = async (experimentId: string) => (await post('/runs/create', { experiment_id: experimentId })).body.run.info.run_id as string;
  const newModel = async (body: Record<string, unknown>) => {
    const created = await post('/logged-models', body);
    expect(created.status).toBe(200);
    return created.body.model;
  };

  beforeAll(async () => {
    artifactRoot = mkdtempSync(join(tmpdir(), 'tracking-models-'));
    tracking = await startTracking(
      loadTrackingConfig({ DATABASE_URL: 'sqlite::memory:', TRACKING_PORT: '0', TRACKING_ARTIFACT_ROOT: artifactRoot }),
      { inProcess: new InProcessTransport(), logger: false },
    );
  });
  afterAll(async () => {
    await tracking.close();
    rmSync(artifactRoot, { recursive: true, force: true });
  });

  it('creates a PENDING logged model under the experiment artifact location, gets it, and finalizes it', async () => {
    const experimentId = await newExperiment('lm-create');
    const runId = await newRun(experimentId);
    const model = await newModel({
      experiment_id: experimentId,
      name: 'model',
      source_run_id: runId,
      model_type: 'classifier',
      params: [{ key: 'C', value: '1.0' }],
      tags: [{ key: 'mlflow.source.type', value: 'LOCAL' }],
    });
    const modelId = model.info.model_id;
    expect(modelId).toMatch(/^m-[0-9a-f]{32}$/);
    expect(model).toEqual({
      info: {
        model_id: modelId,
        experiment_id: experimentId,
        name: 'model',
        creation_timestamp_ms: expect.any(Number),
        last_updated_timestamp_ms: expect.any(Number),
        artifact_uri: `mlflow-artifacts:/${experimentId}/models/${modelId}/artifacts`,
        status: 'LOGGED_MODEL_PENDING',
        model_type: 'classifier',
        source_run_id: runId,
        tags: [{ key: 'mlflow.source.type', value: 'LOCAL' }],
      },
      data: { params: [{ key: 'C', value: '1.0' }], metrics: [] },
    });
    expect((await call('GET', `/logged-models/${modelId}`)).body.model).toEqual(model);
    const ready = await call('PATCH', `/logged-models/${modelId}`, { model_id: modelId, status: 'LOGGED_MODEL_READY' });
    expect(ready).toMatchObject({ status: 200, body: { model: { info: { status: 'LOGGED_MODEL_READY' } } } });
    expect((await call('PATCH', `/logged-models/${modelId}`, { status: 3 })).body.model.info.status).toBe('LOGGED_MODEL_UPLOAD_FAILED');
    // A name is made up when none is given.
    expect((await newModel({ experiment_id: experimentId })).info.name).toMatch(/^[a-z]+-[a-z]+-\d+$/);
  });

  it('refuses bad logged-model input naming the field, and unknown models with RESOURCE_DOES_NOT_EXIST', async () => {
    const experimentId = await newExperiment('lm-errors');
    const { info } = await newModel({ experiment_id: experimentId, name: 'm' });
    expect(await post('/logged-models', { name: 'm' })).toMatchObject(invalidNaming('experiment_id'));
    expect(await post('/logged-models', { experiment_id: experimentId, name: 'a/b' })).toMatchObject(invalidNaming('name'));
    expect(await post('/logged-models', { experiment_id: experimentId, source_run_id: 'f'.repeat(32) })).toMatchObject(invalidNaming('source_run_id'));
    expect(await post('/logged-models', { experiment_id: experimentId, params: [{ key: 'p' }] })).toMatchObject(invalidNaming('params[0].value'));
    expect(await post('/logged-models', { experiment_id: '999' })).toMatchObject(notFound);
    expect(await call('PATCH', `/logged-models/${info.model_id}`, { status: 'DONE' })).toMatchObject(invalidNaming('status'));
    expect(await call('PATCH', `/logged-models/${info.model_id}`, {})).toMatchObject(invalidNaming('status'));
    expect(await call('GET', '/logged-models/m-unknown')).toMatchObject({ ...notFound, body: { message: "Logged model with ID 'm-unknown' not found." } });
    expect(await call('PATCH', '/logged-models/m-unknown', { status: 2 })).toMatchObject(notFound);
    expect(await post('/logged-models/m-unknown/params', { params: [{ key: 'a', value: 'b' }] })).toMatchObject(notFound);
    // Nothing was created by the refused requests.
    const all = await post('/logged-models/search', { experiment_ids: [experimentId] });
    expect(all.body.models.map((m: { info: { name: string } }) => m.info.name)).toEqual(['m']);
  });

  it('logs params and sets and deletes tags (keys with slashes too) of a logged model', async () => {
    const experimentId = await newExperiment('lm-tags');
    const modelId = (await newModel({ experiment_id: experimentId })).info.model_id;
    expect(await post(`/logged-models/${modelId}/params`, { model_id: modelId, params: [{ key: 'lr', value: '0.1' }, { key: 'depth', value: '3' }] })).toEqual({ status: 200, body: {} });
    expect(await call('PATCH', `/logged-models/${modelId}/tags`, { tags: [{ key: 'stage', value: 'dev' }, { key: 'a/b', value: 'x' }] })).toEqual({ status: 200, body: {} });
    await call('PATCH', `/logged-models/${modelId}/tags`, { tags: [{ key: 'stage', value: 'prod' }] });
    expect((await call('GET', `/logged-models/${modelId}`)).body.model).toMatchObject({
      info: { tags: [{ key: 'a/b', value: 'x' }, { key: 'stage', value: 'prod' }] },
      data: { params: [{ key: 'depth', value: '3' }, { key: 'lr', value: '0.1' }] },
    });
    expect(await call('DELETE', `/logged-models/${modelId}/tags/a/b`)).toEqual({ status: 200, body: {} });
    expect(await call('DELETE', `/logged-models/${modelId}/tags/a/b`)).toMatchObject(notFound);
    expect((await call('GET', `/logged-models/${modelId}`)).body.model.info.tags).toEqual([{ key: 'stage', value: 'prod' }]);
    expect(await call('PATCH', `/logged-models/${modelId}/tags`, { tags: [{ key: '../x', value: 'y' }] })).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE' } });
  });

  it('searches logged models by filter (OR too) and order_by, in pages; hides deleted ones', async () => {
    const experimentId = await newExperiment('lm-search');
    const ids: string[] = [];
    for (const [name, kind] of [['alpha', 'tree'], ['beta', 'linear'], ['gamma', 'tree']]) {
      ids.push((await newModel({ experiment_id: experimentId, name, params: [{ key: 'kind', value: kind }] })).info.model_id);
    }
    await call('PATCH', `/logged-models/${ids[1]}`, { status: 'LOGGED_MODEL_READY' });
    const search = (body: Record<string, unknown>) => post('/logged-models/search', { experiment_ids: [experimentId], ...body });
    const names = (reply: Reply) => reply.body.models.map((m: { info: { name: string } }) => m.info.name);

    expect(names(await search({ order_by: [{ field_name: 'name', ascending: true }] }))).toEqual(['alpha', 'beta', 'gamma']);
    expect(names(await search({ filter: "params.kind = 'tree'", order_by: [{ field_name: 'name', ascending: false }] }))).toEqual(['gamma', 'alpha']);
    expect(names(await search({ filter: "status = 'READY' OR name LIKE 'g%'", order_by: [{ field_name: 'name' }] }))).toEqual(['beta', 'gamma']);
    expect(names(await search({ filter: `model_id IN ('${ids[0]}')` }))).toEqual(['alpha']);
    const first = await search({ max_results: 2, order_by: [{ field_name: 'name' }] });
    expect(names(first)).toEqual(['alpha', 'beta']);
    const second = await search({ max_results: 2, order_by: [{ field_name: 'name' }], page_token: first.body.next_page_token });
    expect(names(second)).toEqual(['gamma']);
    expect(second.body.next_page_token).toBeUndefined();

    expect(await call('DELETE', `/logged-models/${ids[0]}`)).toEqual({ status: 200, body: {} });
    expect(await call('GET', `/logged-models/${ids[0]}`)).toMatchObject(notFound);
    expect((await call('GET', `/logged-models/${ids[0]}?allow_deleted=true`)).body.model.info.name).toBe('alpha');
    expect(names(await search({ order_by: [{ field_name: 'name' }] }))).toEqual(['beta', 'gamma']);

    expect(await post('/logged-models/search', {})).toMatchObject(invalidNaming('experiment_ids'));
    expect(await search({ filter: 'colour = 1' })).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('colour') } });
    expect(await search({ order_by: [{ field_name: 'nope' }] })).toMatchObject(invalidNaming('order_by[0].field_name'));
    expect(await search({ max_results: 0 })).toMatchObject(invalidNaming('max_results'));
  });

  it('lists a logged model artifacts uploaded through the artifact proxy', async () => {
    const experimentId = await newExperiment('lm-artifacts');
    const { info } = await newModel({ experiment_id: experimentId });
    const path = info.artifact_uri.replace('mlflow-artifacts:/', '');
    for (const file of ['MLmodel', 'sub/model.onnx']) {
      const put = await fetch(`${tracking.url}/api/2.0/mlflow-artifacts/artifacts/${path}/${file}`, { method: 'PUT', body: 'bytes' });
      expect(put.status).toBe(200);
    }
    const listed = await call('GET', `/logged-models/${info.model_id}/artifacts/directories`);
    expect(listed.body).toEqual({
      root_uri: info.artifact_uri,
      files: [
        { path: 'MLmodel', is_dir: false, file_size: 5 },
        { path: 'sub', is_dir: true },
      ],
    });
    const sub = await call('GET', `/logged-models/${info.model_id}/artifacts/directories?artifact_directory_path=sub`);
    expect(sub.body.files).toEqual([{ path: 'sub/model.onnx', is_dir: false, file_size: 5 }]);
    expect(await call('GET', `/logged-models/${info.model_id}/artifacts/directories?artifact_directory_path=../x`)).toMatchObject({ status: 400 });
  });

  it('logs run inputs (datasets, models) and outputs (models), which runs/get and runs/search return', async () => {
    const experimentId = await newExperiment('run-io');
    const runId = await newRun(experimentId);
    const modelId = (await newModel({ experiment_id: experimentId, source_run_id: runId })).info.model_id;
    const dataset = { name: 'train', digest: 'abc123', source_type: 'local', source: '{"uri": "/data/train.csv"}', schema: '{"mlflow_colspec": []}' };
    const logged = await post('/runs/log-inputs', {
      run_id: runId,
      datasets: [{ tags: [{ key: 'mlflow.data.context', value: 'training' }], dataset }],
      models: [{ model_id: modelId }],
    });
    expect(logged).toEqual({ status: 200, body: {} });
    expect(await post('/runs/outputs', { run_id: runId, models: [{ model_id: modelId, step: 3 }] })).toEqual({ status: 200, body: {} });
    const { run } = (await call('GET', `/runs/get?run_id=${runId}`)).body;
    expect(run.inputs).toEqual({
      dataset_inputs: [{ tags: [{ key: 'mlflow.data.context', value: 'training' }], dataset }],
      model_inputs: [{ model_id: modelId }],
    });
    expect(run.outputs).toEqual({ model_outputs: [{ model_id: modelId, step: 3 }] });
    const found = await post('/runs/search', { experiment_ids: [experimentId], filter: "datasets.context = 'training' AND datasets.digest = 'abc123'" });
    expect(found.body.runs.map((r: { info: { run_id: string } }) => r.info.run_id)).toEqual([runId]);
    expect(found.body.runs[0].outputs.model_outputs).toEqual([{ model_id: modelId, step: 3 }]);

    expect(await post('/runs/log-inputs', { run_id: runId, datasets: [{ dataset: { ...dataset, name: undefined } }] })).toMatchObject(invalidNaming('datasets[0].dataset.name'));
    expect(await post('/runs/log-inputs', { run_id: runId, datasets: [{ dataset: { ...dataset, digest: 'x'.repeat(37) } }] })).toMatchObject(invalidNaming('datasets[0].dataset.digest'));
    expect(await post('/runs/log-inputs', { run_id: runId, models: [{ model_id: 'm-nope' }] })).toMatchObject(notFound);
    expect(await post('/runs/log-inputs', { datasets: [] })).toMatchObject(invalidNaming('run_id'));
    expect(await post('/runs/outputs', { run_id: runId })).toMatchObject(invalidNaming('models'));
    expect(await post('/runs/outputs', { run_id: runId, models: [{ step: 1 }] })).toMatchObject(invalidNaming('models[0].model_id'));
    expect(await post('/runs/outputs', { run_id: 'f'.repeat(32), models: [{ model_id: modelId }] })).toMatchObject(notFound);
    // The refused requests changed nothing.
    expect((await call('GET', `/runs/get?run_id=${runId}`)).body.run.inputs.dataset_inputs).toHaveLength(1);
  });

  it('stores a metric re-logged with a model_id once, as MLflow does, and a new value with one as usual', async () => {
    const experimentId = await newExperiment('model-metrics');
    const runId = await newRun(experimentId);
    const modelId = (await newModel({ experiment_id: experimentId, source_run_id: runId })).info.model_id;
    const metric = { key: 'acc', value: 0.9, timestamp: 1_000, step: 0 };
    await post('/runs/log-batch', { run_id: runId, metrics: [metric] });
    await post('/runs/log-batch', { run_id: runId, metrics: [{ ...metric, model_id: modelId, dataset_name: 'train' }] });
    await post('/runs/log-batch', { run_id: runId, metrics: [{ ...metric, value: 0.95, timestamp: 2_000, model_id: modelId }] });
    const history = await call('GET', `/metrics/get-history?run_id=${runId}&metric_key=acc`);
    expect(history.body.metrics.map((m: { value: number; timestamp: number }) => [m.value, m.timestamp])).toEqual([
      [0.9, 1_000],
      [0.95, 2_000],
    ]);
  });

  it('records runs/log-model (MLflow 2 clients) in the mlflow.log-model.history tag', async () => {
    const runId = await newRun(await newExperiment('log-model'));
    const model = { artifact_path: 'model', flavors: { onnx: { data: 'model.onnx' } }, utc_time_created: '2026-01-01 00:00:00', run_id: runId };
    expect(await post('/runs/log-model', { run_id: runId, model_json: JSON.stringify(model) })).toEqual({ status: 200, body: {} });
    await post('/runs/log-model', { run_id: runId, model_json: JSON.stringify({ ...model, artifact_path: 'other' }) });
    const { run } = (await call('GET', `/runs/get?run_id=${runId}`)).body;
    const history = JSON.parse(run.data.tags.find((t: { key: string }) => t.key === 'mlflow.log-model.history').value);
    expect(history.map((m: { artifact_path: string }) => m.artifact_path)).toEqual(['model', 'other']);
    expect(await post('/runs/log-model', { run_id: runId, model_json: '{not json' })).toMatchObject(invalidNaming('model_json'));
    expect(await post('/runs/log-model', { run_id: runId, model_json: '{"flavors": {}}' })).toMatchObject(invalidNaming('model_json'));
    expect(await post('/runs/log-model', { run_id: runId })).toMatchObject(invalidNaming('model_json'));
    expect(await post('/runs/log-model', { run_id: 'f'.repeat(32), model_json: JSON.stringify(model) })).toMatchObject(notFound);
  });

  it('sets and deletes experiment tags and renames experiments', async () => {
    const experimentId = await newExperiment('exp-io');
    expect(await post('/experiments/set-experiment-tag', { experiment_id: experimentId, key: 'team', value: 'a' })).toEqual({ status: 200, body: {} });
    await post('/experiments/set-experiment-tag', { experiment_id: experimentId, key: 'team', value: 'b' });
    await post('/experiments/set-experiment-tag', { experiment_id: experimentId, key: 'note', value: 'x' });
    expect(await post('/experiments/delete-experiment-tag', { experiment_id: experimentId, key: 'note' })).toEqual({ status: 200, body: {} });
    expect(await post('/experiments/delete-experiment-tag', { experiment_id: experimentId, key: 'note' })).toMatchObject(notFound);
    expect(await post('/experiments/update', { experiment_id: experimentId, new_name: 'exp-io-2' })).toEqual({ status: 200, body: {} });
    const got = await call('GET', `/experiments/get?experiment_id=${experimentId}`);
    expect(got.body.experiment).toMatchObject({ name: 'exp-io-2', tags: [{ key: 'team', value: 'b' }] });
    expect((await call('GET', '/experiments/get-by-name?experiment_name=exp-io')).status).toBe(404);

    await newExperiment('exp-taken');
    expect(await post('/experiments/update', { experiment_id: experimentId, new_name: 'exp-taken' })).toMatchObject({ status: 400, body: { error_code: 'RESOURCE_ALREADY_EXISTS' } });
    expect(await post('/experiments/update', { experiment_id: experimentId })).toMatchObject(invalidNaming('new_name'));
    expect(await post('/experiments/update', { new_name: 'x' })).toMatchObject(invalidNaming('experiment_id'));
    expect(await post('/experiments/update', { experiment_id: '999', new_name: 'x' })).toMatchObject(notFound);
    expect(await post('/experiments/set-experiment-tag', { experiment_id: experimentId, value: 'v' })).toMatchObject(invalidNaming('key'));
    await post('/experiments/delete', { experiment_id: experimentId });
    expect(await post('/experiments/update', { experiment_id: experimentId, new_name: 'exp-io-3' })).toMatchObject({ status: 400, body: { message: expect.stringContaining('deleted') } });
    expect(await post('/experiments/set-experiment-tag', { experiment_id: experimentId, key: 'k', value: 'v' })).toMatchObject({ status: 400 });
    expect((await call('GET', `/experiments/get?experiment_id=${experimentId}`)).body.experiment.name).toBe('exp-io-2');
  });
});
