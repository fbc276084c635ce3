import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EventBus, InProcessTransport, type Subscription } from '@mlops/bus';
import { createEvent, decodeEvent, type AnyEvent } from '@mlops/contracts';
import { loadTrackingConfig, startTracking, type TrackingApp } from '@mlops/service-tracking';
import { interopPython } from '../support/python';
import { waitFor } from '../support/wait-for';
import { loadRegistryConfig, startRegistry, type RegistryApp } from '@mlops/service-registry';

type Reply = { status: number; body: any };

const ONNX_MLMODEL = 'flavors:\n  onnx:\n    data: model.onnx\n    onnx_version: 1.17.0\n  python_function:\n    loader_module: mlflow.onnx\n    data: model.onnx\n';
const SKLEARN_MLMODEL = 'flavors:\n  sklearn:\n    pickled_model: model.pkl\n  python_function:\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\n';

/**
 * The registry's MLflow routes beyond create/get/search, over real HTTP, with a real tracking
 * service (in-process, SQLite) as REGISTRY_TRACKING_URI: runs:/, models:/ and mlflow-artifacts:/
 * sources, stages, tags, rename, update, delete, download URIs, search filters, and MLflow's
 * error shape (`error_code`, a message naming the field).
 */
describe('registry MLflow routes (tracking sources, stages, edits, errors)', () => {
  let dir: string;
  let tracking: TrackingApp;
  let registry: RegistryApp;
  let untracked: RegistryApp;
  let front: Server;
  let frontUrl: string;
  let subscription: Subscription;
  let onnx: Buffer;
  const seen: AnyEvent[] = [];
  /** Logged models (MLflow 3) the `front` server answers for, as tracking's logged-models routes would. */
  const loggedModels = new Map<string, { model_id: string; name: string; experiment_id: string; source_run_id: string; artifact_uri: string }>();
  /** Runs whose runs/get the `front` server completes with MLflow 3's `outputs.model_outputs`. */
  const runOutputs = new Map<string, { model_id: string; step: number }[]>();
  let transport: InProcessTransport;

  const call = (base: string, method: string, path: string, body?: unknown): Promise<Reply> =>
    fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: await r.json() }));
  const mlflow = (method: string, path: string, body?: unknown) => call(registry.url, method, `/api/2.0/mlflow${path}`, body);
  const tracked = (method: string, path: string, body?: unknown) => call(tracking.url, method, `/api/2.0/mlflow${path}`, body);

  /** A run in tracking with `files` logged under `path` through the artifact proxy. */
  async function runWith(path: string, files: Record<string, string | Buffer>, metrics: Record<string, number> = {}, tags: Record<string, string> = {}) {
    const experiment = (await tracked('GET', '/experiments/get-by-name?experiment_name=routes')).body.experiment?.experiment_id ?? (await tracked('POST', '/experiments/create', { name: 'routes' })).body.experiment_id;
    const run = (await tracked('POST', '/runs/create', { experiment_id: experiment, start_time: Date.now() })).body.run.info;
    await tracked('POST', '/runs/log-batch', {
      run_id: run.run_id,
      metrics: Object.entries(metrics).map(([key, value]) => ({ key, value, timestamp: Date.now(), step: 0 })),
      tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
    });
    const root = String(run.artifact_uri).replace(/^mlflow-artifacts:\//, '');
    for (const [file, content] of Object.entries(files)) {
      const response = await fetch(`${tracking.url}/api/2.0/mlflow-artifacts/artifacts/${root}/${path}/${file}`, { method: 'PUT', body: content });
      expect(response.status).toBe(200);
    }
    return { runId: run.run_id as string, experimentId: experiment as string, artifactUri: `${run.artifact_uri}/${path}` };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'registry-routes-'));
    execFileSync(interopPython(), [resolve(__dirname, '../fixtures/serving/make_models.py'), join(dir, 'models')], { stdio: 'pipe' });
    onnx = readFileSync(join(dir, 'models', 'logreg_v1.onnx'));
    tracking = await startTracking(loadTrackingConfig({ DATABASE_URL: 'sqlite::memory:', TRACKING_PORT: '0', TRACKING_ARTIFACT_ROOT: join(dir, 'tracking') }), {
      inProcess: new InProcessTransport(),
      logger: false,
    });
    // Answers MLflow 3's logged-models routes (service.proto) and passes the rest to tracking.
    front = createServer((req, res) => {
      const id = /^\/api\/2\.0\/mlflow\/logged-models\/([^/?]+)$/.exec(req.url ?? '')?.[1];
      if (req.method === 'GET' && id) {
        const info = loggedModels.get(decodeURIComponent(id));
        res.writeHead(info ? 200 : 404, { 'content-type': 'application/json' });
        return res.end(JSON.stringify(info ? { model: { info } } : { error_code: 'RESOURCE_DOES_NOT_EXIST', message: `Logged model with ID '${id}' not found.` }));
      }
      if (req.method === 'POST' && req.url === '/api/2.0/mlflow/logged-models/search') {
        let body = '';
        req.on('data', (c) => (body += c));
        return req.on('end', () => {
          const { experiment_ids, filter } = JSON.parse(body) as { experiment_ids: string[]; filter: string };
          const name = /^name = '(.*)'$/.exec(filter)?.[1];
          const models = [...loggedModels.values()].filter((m) => experiment_ids.includes(m.experiment_id) && m.name === name).map((info) => ({ info }));
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ models }));
        });
      }
      const target = new URL(req.url ?? '/', tracking.url);
      const outputs = req.url?.startsWith('/api/2.0/mlflow/runs/get?') ? runOutputs.get(target.searchParams.get('run_id') ?? '') : undefined;
      if (outputs) {
        return void fetch(target)
          .then((r) => r.json() as Promise<{ run: object }>)
          .then((body) => {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ run: { ...body.run, outputs: { model_outputs: outputs } } }));
          });
      }
      req.pipe(httpRequest(target, { method: req.method, headers: req.headers }, (upstream) => (res.writeHead(upstream.statusCode ?? 502, upstream.headers), upstream.pipe(res))));
    });
    await new Promise<void>((ok) => front.listen(0, '127.0.0.1', ok));
    frontUrl = `http://127.0.0.1:${(front.address() as { port: number }).port}`;
    transport = new InProcessTransport();
    registry = await startRegistry(
      loadRegistryConfig({ DATABASE_URL: 'sqlite::memory:', REGISTRY_PORT: '0', REGISTRY_ARTIFACT_ROOT: join(dir, 'registry'), REGISTRY_TRACKING_URI: frontUrl }),
      { inProcess: transport, logger: false },
    );
    untracked = await startRegistry(loadRegistryConfig({ DATABASE_URL: 'sqlite::memory:', REGISTRY_PORT: '0', REGISTRY_ARTIFACT_ROOT: join(dir, 'untracked') }), {
      inProcess: new InProcessTransport(),
      logger: false,
    });
    subscription = await new EventBus(transport).subscribe({
      group: 'observer',
      topics: ['model.registered', 'deployment.requested', 'model.promoted'],
      handle: async (m) => void seen.push(decodeEvent(m.value)),
    });
  }, 120_000);
  afterAll(async () => {
    await subscription?.stop();
    await registry?.close();
    await untracked?.close();
    await new Promise((ok) => front?.close(ok));
    await tracking?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('model-versions/create from runs:/ imports an ONNX model dir into the store, with lineage, gate and a download URI on tracking', async () => {
    const run = await runWith('model', { MLmodel: ONNX_MLMODEL, 'model.onnx': onnx }, { accuracy: 0.91 }, { 'mlops.dataset_hash': 'sha256:d1', 'mlops.dataset_id': 'orders' });
    const created = await mlflow('POST', '/model-versions/create', { name: 'routes-a', source: `runs:/${run.runId}/model`, run_id: run.runId });
    expect(created).toMatchObject({
      status: 200,
      body: { model_version: { name: 'routes-a', version: '1', run_id: run.runId, servable: true, storage_location: run.artifactUri, dataset_hash: 'sha256:d1', dataset_id: 'orders', metrics: { accuracy: 0.91 } } },
    });
    expect(existsSync(created.body.model_version.artifact_uri)).toBe(true);
    expect(readFileSync(created.body.model_version.artifact_uri).equals(onnx)).toBe(true);
    expect(await mlflow('GET', '/model-versions/get-download-uri?name=routes-a&version=1')).toEqual({ status: 200, body: { artifact_uri: run.artifactUri } });
    const registered = await waitFor(() => seen.find((e) => e.type === 'model.registered' && e.data.model === 'routes-a'), 'model.registered of routes-a');
    expect(registered.type === 'model.registered' && registered.data).toMatchObject({ version: 1, runId: run.runId, datasetHash: 'sha256:d1', gate: { passed: true, metric: 'accuracy' } });
    expect(await mlflow('GET', '/registered-models/alias?name=routes-a&alias=challenger')).toMatchObject({ status: 200, body: { model_version: { version: '1' } } });
  });

  it('a version from training.completed gets its run\'s logged model on tracking as download URI; without one, its source', async () => {
    const run = await runWith('trained', { MLmodel: ONNX_MLMODEL, 'model.onnx': onnx });
    loggedModels.set('m-trained', { model_id: 'm-trained', name: 'model', experiment_id: run.experimentId, source_run_id: run.runId, artifact_uri: run.artifactUri });
    runOutputs.set(run.runId, [{ model_id: 'm-trained', step: 0 }]);
    const file = join(dir, 'models', 'logreg_v1.onnx');
    const bus = new EventBus(transport);
    const completed = (runId: string) =>
      createEvent('training.completed', { source: 'trainer', subject: 'routes-trained', data: { jobId: `j-${runId}`, model: 'routes-trained', runId, artifactUri: file, metrics: {}, params: {} } });
    await bus.publish(completed(run.runId));
    await waitFor(async () => (await mlflow('GET', '/model-versions/get?name=routes-trained&version=1')).status === 200, 'version 1 of routes-trained');
    expect((await mlflow('GET', '/model-versions/get?name=routes-trained&version=1')).body.model_version).toMatchObject({ model_id: 'm-trained', storage_location: run.artifactUri, source: file });
    expect((await mlflow('GET', '/model-versions/get-download-uri?name=routes-trained&version=1')).body).toEqual({ artifact_uri: run.artifactUri });
    await bus.publish(completed('no-such-run'));
    await waitFor(async () => (await mlflow('GET', '/model-versions/get?name=routes-trained&version=2')).status === 200, 'version 2 of routes-trained');
    expect((await mlflow('GET', '/model-versions/get-download-uri?name=routes-trained&version=2')).body).toEqual({ artifact_uri: file });
  });

  it('a declared signature that the ONNX model does not match is refused naming the tensor, and nothing is registered', async () => {
    const run = await runWith('model', { MLmodel: ONNX_MLMODEL, 'model.onnx': onnx });
    const signature = { inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 30] }], outputs: [] };
    const reply = await mlflow('POST', '/model-versions/create', { name: 'routes-sig', source: `runs:/${run.runId}/model`, signature });
    expect(reply).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining("'features'") } });
    expect((await mlflow('GET', '/registered-models/get?name=routes-sig')).status).toBe(404);
  });

  it('models:/<model_id> and runs:/ without an MLmodel resolve through the logged model (MLflow 3), and mlflow-artifacts:/ directly', async () => {
    const run = await runWith('logged', { MLmodel: ONNX_MLMODEL, 'model.onnx': onnx });
    loggedModels.set('m-0001', { model_id: 'm-0001', name: 'clf', experiment_id: run.experimentId, source_run_id: run.runId, artifact_uri: run.artifactUri });
    const byId = await mlflow('POST', '/model-versions/create', { name: 'routes-logged', source: 'models:/m-0001' });
    expect(byId.body.model_version).toMatchObject({ version: '1', run_id: run.runId, model_id: 'm-0001', storage_location: run.artifactUri, servable: true });
    const byRun = await mlflow('POST', '/model-versions/create', { name: 'routes-logged', source: `runs:/${run.runId}/clf` });
    expect(byRun.body.model_version).toMatchObject({ version: '2', model_id: 'm-0001', storage_location: run.artifactUri });
    const direct = await mlflow('POST', '/model-versions/create', { name: 'routes-logged', source: run.artifactUri, run_id: run.runId });
    expect(direct.body.model_version).toMatchObject({ version: '3', run_id: run.runId, storage_location: run.artifactUri });
    const copy = await mlflow('POST', '/model-versions/create', { name: 'routes-copy', source: 'models:/routes-logged/2' });
    expect(copy.body.model_version).toMatchObject({ version: '1', source: 'models:/routes-logged/2', storage_location: run.artifactUri });
    expect(await mlflow('POST', '/model-versions/create', { name: 'routes-logged', source: `runs:/${run.runId}/nothing` })).toMatchObject({
      status: 404,
      body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: expect.stringContaining('Unable to find a logged_model with artifact_path nothing') },
    });
    expect(await mlflow('POST', '/model-versions/create', { name: 'routes-logged', source: 'models:/m-missing' })).toMatchObject({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST' } });
  });

  it('without REGISTRY_TRACKING_URI a tracking source is refused naming the variable; a file outside the import roots names the other options', async () => {
    const refused = await call(untracked.url, 'POST', '/api/2.0/mlflow/model-versions/create', { name: 'x', source: 'runs:/abc/model' });
    expect(refused).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('REGISTRY_TRACKING_URI') } });
    const file = await call(untracked.url, 'POST', '/api/2.0/mlflow/model-versions/create', { name: 'x', source: '/etc/passwd' });
    expect(file).toMatchObject({ status: 400, body: { message: expect.stringContaining('runs:/<run_id>/<path>') } });
    expect((await call(untracked.url, 'GET', '/api/2.0/mlflow/registered-models/get?name=x')).status).toBe(404);
  });

  it('a version without an ONNX model is accepted, marked not servable, and deploying it is refused saying how to fix it; Production is for MLflow clients only', async () => {
    const run = await runWith('sk', { MLmodel: SKLEARN_MLMODEL, 'model.pkl': Buffer.from('not really a pickle') });
    const created = await mlflow('POST', '/model-versions/create', { name: 'routes-sk', source: `runs:/${run.runId}/sk` });
    expect(created.body.model_version).toMatchObject({ version: '1', servable: false, tags: [{ key: 'mlops.servable', value: 'false' }], storage_location: run.artifactUri });
    const registered = await waitFor(() => seen.find((e) => e.type === 'model.registered' && e.data.model === 'routes-sk'), 'model.registered of routes-sk');
    expect(registered.type === 'model.registered' && registered.data.servable).toBe(false);
    for (const reply of [
      await call(registry.url, 'POST', '/models/routes-sk/promote', { version: 1 }),
      await mlflow('POST', '/registered-models/alias', { name: 'routes-sk', alias: 'champion', version: '1' }),
    ]) {
      expect(reply).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringMatching(/not servable.*mlflow\.onnx\.log_model.*skl2onnx/) } });
    }
    expect((await mlflow('GET', '/model-versions/get?name=routes-sk&version=1')).body.model_version).toMatchObject({ current_stage: 'None', aliases: [] });
    // The tutorials' transition to Production: the stage, for models:/<name>/Production, not the champion.
    const production = await mlflow('POST', '/model-versions/transition-stage', { name: 'routes-sk', version: '1', stage: 'Production' });
    expect(production).toMatchObject({ status: 200, body: { model_version: { current_stage: 'Production', aliases: ['mlflow-production'] } } });
    expect(await mlflow('POST', '/registered-models/get-latest-versions', { name: 'routes-sk', stages: ['Production'] })).toMatchObject({ body: { model_versions: [{ version: '1' }] } });
    expect(await mlflow('GET', '/registered-models/alias?name=routes-sk&alias=champion')).toMatchObject({ status: 404 });
    expect(seen.some((e) => (e.type === 'model.promoted' || e.type === 'deployment.requested') && e.data.model === 'routes-sk')).toBe(false);
    // Back to None leaves the stage.
    await mlflow('POST', '/model-versions/transition-stage', { name: 'routes-sk', version: '1', stage: 'None' });
    expect((await mlflow('GET', '/model-versions/get?name=routes-sk&version=1')).body.model_version).toMatchObject({ current_stage: 'None', aliases: [] });
  });

  it('transition-stage maps Production to champion and Staging to challenger; get-latest-versions reads them; bad stages name the field', async () => {
    const run = await runWith('model', { MLmodel: ONNX_MLMODEL, 'model.onnx': onnx });
    for (let i = 0; i < 3; i++) await mlflow('POST', '/model-versions/create', { name: 'routes-stage', source: `runs:/${run.runId}/model` });
    const production = await mlflow('POST', '/model-versions/transition-stage', { name: 'routes-stage', version: '1', stage: 'production', archive_existing_versions: false });
    expect(production.body.model_version).toMatchObject({ current_stage: 'Production', aliases: ['champion'] });
    await waitFor(() => seen.find((e) => e.type === 'model.promoted' && e.data.model === 'routes-stage' && e.data.version === 1), 'model.promoted of version 1');
    expect((await mlflow('POST', '/model-versions/transition-stage', { name: 'routes-stage', version: '2', stage: 'Staging' })).body.model_version.current_stage).toBe('Staging');
    expect(await mlflow('POST', '/registered-models/get-latest-versions', { name: 'routes-stage', stages: ['Production'] })).toMatchObject({ status: 200, body: { model_versions: [{ version: '1' }] } });
    const all = await mlflow('POST', '/registered-models/get-latest-versions', { name: 'routes-stage' });
    expect(all.body.model_versions.map((v: { version: string; current_stage: string }) => [v.version, v.current_stage])).toEqual([
      ['1', 'Production'],
      ['2', 'Staging'],
      ['3', 'None'],
    ]);
    expect(await call(registry.url, 'GET', '/api/2.0/mlflow/registered-models/get-latest-versions?name=routes-stage&stages=Staging')).toMatchObject({ body: { model_versions: [{ version: '2' }] } });
    // Production moves: version 1 leaves it (a stage holds one version, like the alias).
    await mlflow('POST', '/model-versions/transition-stage', { name: 'routes-stage', version: '3', stage: 'Production', archive_existing_versions: true });
    expect((await mlflow('GET', '/model-versions/get?name=routes-stage&version=1')).body.model_version.current_stage).toBe('None');
    expect((await mlflow('POST', '/model-versions/transition-stage', { name: 'routes-stage', version: '2', stage: 'Archived' })).body.model_version).toMatchObject({ current_stage: 'None', aliases: [] });
    expect(await mlflow('POST', '/model-versions/transition-stage', { name: 'routes-stage', version: '3', stage: 'Archived' })).toMatchObject({
      status: 400,
      body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('is in Production') },
    });
    expect(await mlflow('POST', '/model-versions/transition-stage', { name: 'routes-stage', version: '2', stage: 'Live' })).toMatchObject({ status: 400, body: { issues: [{ field: 'stage' }] } });
    expect(await mlflow('POST', '/model-versions/transition-stage', { name: 'routes-stage', version: '2', stage: 'None', archive_existing_versions: true })).toMatchObject({
      status: 400,
      body: { issues: [{ field: 'archive_existing_versions' }] },
    });
    expect(await mlflow('POST', '/registered-models/get-latest-versions', { name: 'routes-stage', stages: ['Prod'] })).toMatchObject({ status: 400, body: { issues: [{ field: 'stages[0]' }] } });
    expect(await mlflow('POST', '/model-versions/transition-stage', { name: 'routes-stage', version: '9', stage: 'Staging' })).toMatchObject({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST' } });
    expect(await mlflow('POST', '/model-versions/transition-stage', { name: 'routes-stage', version: '2' })).toMatchObject({ status: 400, body: { message: expect.stringContaining("'stage'") } });
  });

  it('registered models: set-tag, delete-tag, update, rename (with versions, aliases and gate decisions), delete; errors in MLflow shape', async () => {
    await mlflow('POST', '/registered-models/create', { name: 'routes-edit', tags: [{ key: 'team', value: 'a' }] });
    await mlflow('POST', '/registered-models/create', { name: 'routes-taken' });
    const run = await runWith('model', { MLmodel: ONNX_MLMODEL, 'model.onnx': onnx }, { accuracy: 0.5 });
    await mlflow('POST', '/model-versions/create', { name: 'routes-edit', source: `runs:/${run.runId}/model` });
    expect(await mlflow('POST', '/registered-models/set-tag', { name: 'routes-edit', key: 'owner', value: 'me' })).toEqual({ status: 200, body: {} });
    expect(await mlflow('POST', '/registered-models/set-tag', { name: 'routes-edit', value: 'me' })).toMatchObject({ status: 400, body: { message: expect.stringContaining("'key'") } });
    expect(await mlflow('DELETE', '/registered-models/delete-tag', { name: 'routes-edit', key: 'team' })).toEqual({ status: 200, body: {} });
    expect(await mlflow('DELETE', '/registered-models/delete-tag', { name: 'routes-edit', key: 'team' })).toMatchObject({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST' } });
    expect((await mlflow('PATCH', '/registered-models/update', { name: 'routes-edit', description: 'new' })).body.registered_model).toMatchObject({ description: 'new', tags: [{ key: 'owner', value: 'me' }] });
    expect(await mlflow('POST', '/registered-models/rename', { name: 'routes-edit', new_name: 'routes-taken' })).toMatchObject({ status: 400, body: { error_code: 'RESOURCE_ALREADY_EXISTS' } });
    expect(await mlflow('POST', '/registered-models/rename', { name: 'routes-edit' })).toMatchObject({ status: 400, body: { message: expect.stringContaining("'new_name'") } });
    const renamed = await mlflow('POST', '/registered-models/rename', { name: 'routes-edit', new_name: 'routes-edited' });
    expect(renamed.body.registered_model).toMatchObject({ name: 'routes-edited', aliases: [{ alias: 'challenger', version: '1' }], latest_versions: [{ name: 'routes-edited', version: '1' }] });
    expect((await call(registry.url, 'GET', '/models/routes-edited/versions/1/gate')).body).toMatchObject({ model: 'routes-edited', passed: true });
    expect((await mlflow('GET', '/registered-models/get?name=routes-edit')).status).toBe(404);
    expect(await mlflow('DELETE', '/registered-models/delete', { name: 'routes-edited' })).toEqual({ status: 200, body: {} });
    expect((await mlflow('GET', '/model-versions/get?name=routes-edited&version=1')).status).toBe(404);
    expect(await call(registry.url, 'DELETE', '/api/2.0/mlflow/registered-models/delete?name=routes-edited')).toMatchObject({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST' } });
  });

  it('model versions: update, set-tag, delete-tag, delete (not the champion), get-download-uri of a missing version', async () => {
    const run = await runWith('model', { MLmodel: ONNX_MLMODEL, 'model.onnx': onnx });
    for (let i = 0; i < 2; i++) await mlflow('POST', '/model-versions/create', { name: 'routes-v', source: `runs:/${run.runId}/model` });
    expect((await mlflow('PATCH', '/model-versions/update', { name: 'routes-v', version: '2', description: 'second' })).body.model_version.description).toBe('second');
    expect(await mlflow('PATCH', '/model-versions/update', { name: 'routes-v', version: 'two' })).toMatchObject({ status: 400, body: { message: expect.stringContaining('version') } });
    expect(await mlflow('POST', '/model-versions/set-tag', { name: 'routes-v', version: '2', key: 'ok', value: 'yes' })).toEqual({ status: 200, body: {} });
    expect((await mlflow('GET', '/model-versions/get?name=routes-v&version=2')).body.model_version.tags).toEqual([{ key: 'ok', value: 'yes' }]);
    expect(await mlflow('DELETE', '/model-versions/delete-tag', { name: 'routes-v', version: '2', key: 'ok' })).toEqual({ status: 200, body: {} });
    expect(await mlflow('DELETE', '/model-versions/delete-tag', { name: 'routes-v', version: '2', key: 'ok' })).toMatchObject({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST' } });
    // The champion alias as MLflow clients set it (POST /models/:name/promote needs serving to have loaded the version).
    expect((await mlflow('POST', '/registered-models/alias', { name: 'routes-v', alias: 'champion', version: '1' })).status).toBe(200);
    expect(await mlflow('DELETE', '/model-versions/delete', { name: 'routes-v', version: '1' })).toMatchObject({ status: 400, body: { message: expect.stringContaining('champion') } });
    expect(await mlflow('DELETE', '/model-versions/delete', { name: 'routes-v', version: '2' })).toEqual({ status: 200, body: {} });
    expect(await mlflow('GET', '/model-versions/get-download-uri?name=routes-v&version=2')).toMatchObject({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST' } });
    expect(await mlflow('GET', '/model-versions/get-download-uri?name=routes-v')).toMatchObject({ status: 400, body: { message: expect.stringContaining("'version'") } });
  });

  it('search: the 3.x prompt clause, tag filters, IN, pagination; a malformed filter names the field', async () => {
    await mlflow('POST', '/registered-models/create', { name: 'search-1', tags: [{ key: 'team', value: 'fraud' }] });
    await mlflow('POST', '/registered-models/create', { name: 'search-2', tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }] });
    const names = async (filter: string) =>
      ((await call(registry.url, 'GET', `/api/2.0/mlflow/registered-models/search?${new URLSearchParams({ filter })}`)).body.registered_models ?? []).map((m: { name: string }) => m.name);
    expect(await names("name LIKE 'search-%' AND tag.`mlflow.prompt.is_prompt` != 'true'")).toEqual(['search-1']);
    expect(await names("tags.team = 'fraud'")).toEqual(['search-1']);
    expect(await names(`name IN ('search-1', "search-2")`)).toEqual(['search-1', 'search-2']);
    const first = await mlflow('POST', '/registered-models/search', { filter: "name LIKE 'search-%'", max_results: 1 });
    expect(first.body.registered_models.map((m: { name: string }) => m.name)).toEqual(['search-1']);
    const second = await mlflow('POST', '/registered-models/search', { filter: "name LIKE 'search-%'", max_results: 1, page_token: first.body.next_page_token });
    expect(second.body).toMatchObject({ registered_models: [{ name: 'search-2' }] });
    expect(second.body.next_page_token).toBeUndefined();
    for (const filter of ["name = 'a' OR name = 'b'", 'owner = 1', "name = 'unterminated"]) {
      expect(await mlflow('POST', '/registered-models/search', { filter })).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', issues: [{ field: 'filter' }] } });
    }
    expect(await mlflow('POST', '/registered-models/search', { page_token: 'garbage' })).toMatchObject({ status: 400, body: { issues: [{ field: 'page_token' }] } });
  });
});
