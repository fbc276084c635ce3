import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { EventBus, InProcessTransport, type Subscription } from '@mlops/bus';
import { createEvent, decodeEvent, type AnyEvent, type EventEnvelope } from '@mlops/contracts';
import { interopPython } from '../../../test/support/python';
import { readmeBlocks } from '../../../test/support/readme';
import { waitFor } from '../../../test/support/wait-for';
import { startRegistry, type RegistryApp } from './registry.app';
import { loadRegistryConfig } from './registry.config';

/** Every file under a directory, recursively (the artifact store's content). */
function filesUnder(dir: string): string[] {
  let out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    out = statSync(path).isDirectory() ? [...out, ...filesUnder(path)] : [...out, path];
  }
  return out;
}

const SIGNATURE = {
  inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 30] }],
  outputs: [
    { name: 'label', datatype: 'INT64', shape: [-1] },
    { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
  ],
};

describe('registry service (embedded: in-process bus, SQLite, real HTTP, sklearn ONNX models)', () => {
  let transport: InProcessTransport;
  let registry: RegistryApp;
  let subscription: Subscription;
  let artifactRoot: string;
  let modelsDir: string;
  let gateDir: string;
  const seen: AnyEvent[] = [];

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Reply = { status: number; body: any };
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> =>
    fetch(`${registry.url}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: await r.json() }));
  const upload = (name: string, bytes: Uint8Array, query: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<Reply> =>
    fetch(`${registry.url}/models/${name}/versions?${new URLSearchParams(query)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', ...headers },
      body: bytes,
    }).then(async (r) => ({ status: r.status, body: await r.json() }));
  const mlflow = (method: string, path: string, body?: unknown) => call(method, `/api/2.0/mlflow${path}`, body);
  const events = <T extends AnyEvent['type']>(type: T, model: string) =>
    seen.filter((e): e is EventEnvelope<T> & AnyEvent => e.type === type && (e.data as { model: string }).model === model);

  const trainingCompleted = (model: string, artifact: string, extra: Partial<EventEnvelope<'training.completed'>['data']> = {}) =>
    createEvent('training.completed', {
      source: 'trainer',
      subject: model,
      data: {
        jobId: `job-${Math.random().toString(36).slice(2)}`,
        model,
        runId: `run-${Math.random().toString(36).slice(2)}`,
        artifactUri: artifact,
        metrics: { accuracy: 0.8 },
        params: {},
        ...extra,
      },
    });

  /** serving's report that it runs a version (the registry records it; a first version becomes champion). */
  const served = (model: string, version: number, trafficShare: number, status: 'serving' | 'failed' = 'serving', strategy?: 'blue-green' | 'shadow') =>
    registry.bus.publish(
      createEvent('deployment.completed', {
        source: 'serving',
        subject: model,
        data: { model, version, status, trafficShare, ...(status === 'failed' ? { error: 'onnxruntime could not load it' } : {}), ...(strategy ? { strategy } : {}) },
      }),
    );

  let markers = 0;
  /**
   * Resolves once the registry has handled every training.completed published before, and the
   * observer has seen their deployment.requested: a good model of a model no test uses comes
   * after them on the same topic, handled in order, and its deployment.requested is seen.
   */
  async function settled(): Promise<void> {
    const model = `marker${markers++}`;
    await registry.bus.publish(trainingCompleted(model, join(gateDir, 'good.onnx')));
    await waitFor(() => events('deployment.requested', model)[0], `deployment.requested of ${model}`);
  }

  beforeAll(async () => {
    const python = interopPython();
    modelsDir = mkdtempSync(join(tmpdir(), 'registry-models-'));
    gateDir = mkdtempSync(join(tmpdir(), 'registry-gate-'));
    execFileSync(python, [resolve(__dirname, '../../../test/fixtures/serving/make_models.py'), modelsDir], { stdio: 'pipe' });
    execFileSync(python, [resolve(__dirname, '../../../test/fixtures/registry/make_gate_models.py'), gateDir], { stdio: 'pipe' });
    artifactRoot = mkdtempSync(join(tmpdir(), 'registry-artifacts-'));
    transport = new InProcessTransport();
    registry = await startRegistry(
      loadRegistryConfig({
        DATABASE_URL: 'sqlite::memory:',
        REGISTRY_PORT: '0',
        REGISTRY_ARTIFACT_ROOT: artifactRoot,
        REGISTRY_HOLDOUT_PATH: join(gateDir, 'holdout.json'),
        REGISTRY_CANARY_SHARE: '0.2',
      }),
      { inProcess: transport, logger: false },
    );
    subscription = await new EventBus(transport).subscribe({
      group: 'observer',
      topics: ['model.registered', 'deployment.requested', 'model.promoted', 'model.rolled_back'],
      handle: async (m) => void seen.push(decodeEvent(m.value)),
    });
  }, 120_000);
  afterAll(async () => {
    await subscription?.stop();
    await registry?.close();
    for (const dir of [artifactRoot, modelsDir, gateDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('rejects a corrupt upload with 400 INVALID_PARAMETER_VALUE and stores or registers nothing', async () => {
    const corrupt = Buffer.concat([readFileSync(join(modelsDir, 'logreg_v1.onnx')).subarray(0, 200), Buffer.from('not onnx')]);
    const reply = await upload('corrupt', corrupt, { run_id: 'r1' });
    expect(reply).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringMatching(/not a valid ONNX model/) } });
    expect(filesUnder(artifactRoot)).toEqual([]);
    expect(await mlflow('GET', '/registered-models/get?name=corrupt')).toMatchObject({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST' } });
    expect((await upload('corrupt', Buffer.alloc(0))).status).toBe(400);
  });

  it('rejects a model whose inputs/outputs differ from the declared signature, naming the tensor, and stores nothing', async () => {
    const bytes = readFileSync(join(modelsDir, 'logreg_v1.onnx'));
    const renamed = { ...SIGNATURE, inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 30] }] };
    const byName = await upload('sig', bytes, { signature: JSON.stringify(renamed) });
    expect(byName).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE' } });
    expect(byName.body.message).toContain("declared input 'features' is not an input of the model (model inputs: input)");

    const wrongType = { ...SIGNATURE, outputs: [{ name: 'label', datatype: 'FP32', shape: [-1] }, SIGNATURE.outputs[1]] };
    const byType = await upload('sig', bytes, {}, { 'x-mlops-signature': JSON.stringify(wrongType) });
    expect(byType.status).toBe(400);
    expect(byType.body.message).toContain("output 'label': declared datatype FP32, the model has INT64");

    const wrongShape = { ...SIGNATURE, inputs: [{ name: 'input', datatype: 'float32', shape: [-1, 4] }] };
    expect((await upload('sig', bytes, { signature: JSON.stringify(wrongShape) })).body.message).toContain("input 'input': declared shape [-1,4], the model has [-1,30]");
    expect(filesUnder(artifactRoot)).toEqual([]);
    expect((await mlflow('GET', '/registered-models/get?name=sig')).status).toBe(404);
  });

  it('registers a valid sklearn ONNX upload with the signature read from the model, content-addressed', async () => {
    const bytes = readFileSync(join(modelsDir, 'logreg_v1.onnx'));
    const reply = await upload('fraud', bytes, { run_id: 'run-up-1', dataset_id: 'ds-1', dataset_hash: 'a'.repeat(64), code_version: 'git:abc123', signature: JSON.stringify(SIGNATURE) });
    expect(reply.status).toBe(201);
    const version = reply.body.model_version;
    expect(version).toMatchObject({ name: 'fraud', version: '1', status: 'READY', run_id: 'run-up-1', dataset_id: 'ds-1', code_version: 'git:abc123', signature: SIGNATURE });
    expect(version.artifact_hash).toMatch(/^[a-f0-9]{64}$/);
    expect(version.artifact_uri).toBe(join(artifactRoot, 'sha256', version.artifact_hash.slice(0, 2), `${version.artifact_hash}.onnx`));
    expect(readFileSync(version.artifact_uri).equals(bytes)).toBe(true);

    // The same bytes again: a second version, one stored file.
    const again = await upload('fraud', bytes);
    expect(again.body.model_version).toMatchObject({ version: '2', artifact_hash: version.artifact_hash, signature: SIGNATURE });
    expect(filesUnder(artifactRoot)).toHaveLength(1);

    expect((await mlflow('GET', '/model-versions/get?name=fraud&version=1')).body.model_version).toMatchObject({ run_id: 'run-up-1', signature: SIGNATURE });
    const model = (await mlflow('GET', '/registered-models/get?name=fraud')).body.registered_model;
    expect(model).toMatchObject({ name: 'fraud', latest_versions: [{ version: '2' }] });
    const search = await mlflow('POST', '/registered-models/search', { filter: "name LIKE 'fra%'" });
    expect(search.body.registered_models.map((m: { name: string }) => m.name)).toEqual(['fraud']);
    const versions = await mlflow('POST', '/model-versions/search', { filter: "name = 'fraud' AND run_id = 'run-up-1'" });
    expect(versions.body.model_versions.map((v: { version: string }) => v.version)).toEqual(['1']);

    // MLflow routes: create, aliases (set/get/delete), errors as {error_code, message}.
    expect((await mlflow('POST', '/registered-models/create', { name: 'fraud' })).body.error_code).toBe('RESOURCE_ALREADY_EXISTS');
    expect((await mlflow('POST', '/registered-models/create', { name: 'empty', tags: [{ key: 'team', value: 'risk' }] })).body.registered_model).toMatchObject({
      name: 'empty',
      tags: [{ key: 'team', value: 'risk' }],
    });
    expect((await mlflow('POST', '/registered-models/alias', { name: 'fraud', alias: 'staging', version: '2' })).status).toBe(200);
    expect((await mlflow('GET', '/registered-models/alias?name=fraud&alias=staging')).body.model_version).toMatchObject({ version: '2', aliases: ['staging'] });
    expect((await mlflow('DELETE', '/registered-models/alias?name=fraud&alias=staging')).status).toBe(200);
    expect((await mlflow('GET', '/registered-models/alias?name=fraud&alias=staging')).status).toBe(404);
    expect((await mlflow('POST', '/model-versions/create', { name: 'fraud', source: join(modelsDir, 'logreg_v2.onnx') })).body).toMatchObject({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: expect.stringContaining('REGISTRY_IMPORT_ROOTS'),
    });
  });

  it('gate: a first model (no champion) passes -> challenger alias, model.registered and a canary deployment.requested', async () => {
    const event = trainingCompleted('churn', join(gateDir, 'good.onnx'), { datasetId: 'churn-ds', datasetHash: 'b'.repeat(64), codeVersion: 'git:111', signature: SIGNATURE });
    await registry.bus.publish(event);
    const deployment = await waitFor(() => events('deployment.requested', 'churn')[0], 'deployment.requested');
    expect(deployment).toMatchObject({
      source: 'registry',
      correlationId: event.correlationId,
      data: { model: 'churn', version: 1, strategy: 'canary', canaryShare: 0.2 },
    });
    const registered = events('model.registered', 'churn');
    expect(registered).toHaveLength(1);
    expect(registered[0]).toMatchObject({ correlationId: event.correlationId, data: { version: 1, runId: event.data.runId, datasetHash: 'b'.repeat(64) } });
    const version = (await mlflow('GET', '/registered-models/alias?name=churn&alias=challenger')).body.model_version;
    expect(version).toMatchObject({ version: '1', aliases: ['challenger'], signature: SIGNATURE });
    expect(deployment.data.artifactUri).toBe(version.artifact_uri);
    const gate = await call('GET', '/models/churn/versions/1/gate');
    expect(gate.body).toMatchObject({ passed: true, basis: 'no-champion', metric: 'accuracy', champion_score: null });
    expect(gate.body.candidate_score).toBeGreaterThan(0.75);
  });

  it('gate: a worse candidate (trained on shuffled labels) is rejected on the holdout, the champion stays', async () => {
    await waitFor(() => events('deployment.requested', 'churn')[0], 'the first churn version');
    // Serving has not loaded v1: promoting it would be a false success.
    const refused = await call('POST', '/models/churn/promote', { version: 1 });
    expect(refused).toMatchObject({ status: 409, body: { error_code: 'FAILED_PRECONDITION' } });
    expect(refused.body.message).toContain('deploy it first: POST /registry/models/churn/deploy {"version":1,"strategy":"full"}');
    expect((await mlflow('GET', '/registered-models/alias?name=churn&alias=champion')).status).toBe(404);
    // Serving reports v1 running: the first deployed version becomes champion, and promote agrees.
    await served('churn', 1, 1);
    await waitFor(() => events('model.promoted', 'churn')[0], 'model.promoted of v1');
    const promoted = await call('POST', '/models/churn/promote', { version: 1 });
    expect(promoted.body).toMatchObject({ champion: 1, changed: false });
    // It reports a great accuracy; the holdout tells the truth.
    const event = trainingCompleted('churn', join(gateDir, 'shuffled.onnx'), { metrics: { accuracy: 0.99 }, datasetHash: 'b'.repeat(64) });
    await registry.bus.publish(event);
    await waitFor(() => events('model.registered', 'churn').find((e) => e.data.version === 2), 'model.registered v2');
    const gate = await waitFor(async () => {
      const reply = await call('GET', '/models/churn/versions/2/gate');
      return reply.status === 200 && reply.body;
    }, 'the v2 gate decision');
    expect(gate).toMatchObject({ passed: false, decision: 'reject', basis: 'holdout', champion_version: 1, higher_is_better: true });
    expect(gate.champion_score).toBeGreaterThan(0.75);
    expect(gate.candidate_score).toBeLessThan(0.6);
    expect(gate.reason).toMatch(/holdout/);
    await settled();
    expect(events('deployment.requested', 'churn').map((e) => e.data.version)).toEqual([1]);
    expect((await mlflow('GET', '/registered-models/alias?name=churn&alias=champion')).body.model_version.version).toBe('1');
    // Promotion took v1 off `challenger`; the rejected v2 did not take it.
    expect((await mlflow('GET', '/registered-models/alias?name=churn&alias=challenger')).status).toBe(404);
    expect(events('model.registered', 'churn').find((e) => e.data.version === 2)!.correlationId).toBe(event.correlationId);
  });

  it('promote moves champion and publishes model.promoted; rollback restores the previous champion and publishes model.rolled_back', async () => {
    await waitFor(() => events('model.registered', 'churn').find((e) => e.data.version === 2), 'churn v2');
    const v2 = (await mlflow('GET', '/model-versions/get?name=churn&version=2')).body.model_version;
    await served('churn', 2, 0.2, 'failed');
    const failed = await waitFor(async () => {
      const reply = await call('POST', '/models/churn/promote', { version: '2' });
      return reply.body.message?.includes('last deployment failed') && reply;
    }, 'the failed deployment recorded');
    expect(failed).toMatchObject({ status: 409, body: { message: expect.stringContaining('onnxruntime could not load it') } });
    await served('churn', 2, 0.2);
    const promoted = await waitFor(async () => {
      const reply = await call('POST', '/models/churn/promote', { version: '2' });
      return reply.status === 200 && reply;
    }, 'v2 promotable once serving runs it');
    expect(promoted).toMatchObject({ status: 200, body: { champion: 2, previous_version: 1, changed: true } });
    const promotedEvent = await waitFor(() => events('model.promoted', 'churn').find((e) => e.data.version === 2), 'model.promoted v2');
    expect(promotedEvent.data).toEqual({ model: 'churn', version: 2, alias: 'champion', previousVersion: 1 });
    const v2Registered = events('model.registered', 'churn').find((e) => e.data.version === 2)!;
    expect(promotedEvent.correlationId).toBe(v2Registered.correlationId);
    expect(v2.aliases).toEqual([]);

    const rolled = await call('POST', '/models/churn/rollback', { reason: 'canary error rate 12%' });
    expect(rolled.body).toMatchObject({ rolled_back_version: 2, champion: 1 });
    const event = await waitFor(() => events('model.rolled_back', 'churn')[0], 'model.rolled_back');
    expect(event).toMatchObject({ correlationId: v2Registered.correlationId, data: { model: 'churn', version: 2, restoredVersion: 1, reason: 'canary error rate 12%' } });
    expect((await mlflow('GET', '/registered-models/alias?name=churn&alias=champion')).body.model_version.version).toBe('1');
    // Rolling back the first promotion leaves no champion; then there is nothing left.
    expect((await call('POST', '/models/churn/rollback', { reason: 'again' })).body).toMatchObject({ rolled_back_version: 1, champion: null });
    expect(await call('POST', '/models/churn/rollback', { reason: 'again' })).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE' } });
    expect(await call('POST', '/models/churn/rollback', {})).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE' } });
    expect((await call('POST', '/models/churn/promote', { version: 9 })).status).toBe(404);
    await call('POST', '/models/churn/promote', { version: 1 });
  });

  it('deploy publishes deployment.requested (full, canary, shadow, blue-green or ab) and answers 202 with its correlation id; bad bodies name the field', async () => {
    await waitFor(() => events('model.registered', 'churn').find((e) => e.data.version === 2), 'churn v2');
    const full = await call('POST', '/models/churn/deploy', { version: 2, strategy: 'full' });
    expect(full).toMatchObject({ status: 202, body: { model: 'churn', version: 2, strategy: 'full', share: 1 } });
    const requested = await waitFor(() => events('deployment.requested', 'churn').find((e) => e.correlationId === full.body.correlationId), 'the full deployment.requested');
    expect(requested).toMatchObject({ source: 'registry', data: { model: 'churn', version: 2, strategy: 'full' } });
    expect(requested.data.artifactUri).toBe((await mlflow('GET', '/model-versions/get?name=churn&version=2')).body.model_version.artifact_uri);

    const canary = await call('POST', '/models/churn/deploy', { version: 1, strategy: 'canary', share: 0.1 });
    expect(canary).toMatchObject({ status: 202, body: { version: 1, strategy: 'canary', share: 0.1 } });
    const canaryEvent = await waitFor(() => events('deployment.requested', 'churn').find((e) => e.correlationId === canary.body.correlationId), 'the canary deployment.requested');
    expect(canaryEvent.data).toMatchObject({ version: 1, strategy: 'canary', canaryShare: 0.1 });

    for (const [strategy, share] of [['shadow', 0], ['blue-green', 1]] as const) {
      const reply = await call('POST', '/models/churn/deploy', { version: 2, strategy });
      expect(reply).toMatchObject({ status: 202, body: { version: 2, strategy, share } });
      const event = await waitFor(() => events('deployment.requested', 'churn').find((e) => e.correlationId === reply.body.correlationId), `the ${strategy} deployment.requested`);
      expect(event.data).toMatchObject({ version: 2, strategy });
    }
    const ab = await call('POST', '/models/churn/deploy', { version: 2, strategy: 'ab', share: 0.5, labels: 300 });
    expect(ab).toMatchObject({ status: 202, body: { version: 2, strategy: 'ab', share: 0.5, labels: 300 } });
    const abEvent = await waitFor(() => events('deployment.requested', 'churn').find((e) => e.correlationId === ab.body.correlationId), 'the ab deployment.requested');
    expect(abEvent.data).toMatchObject({ version: 2, strategy: 'ab', canaryShare: 0.5, abLabels: 300 });

    const before = events('deployment.requested', 'churn').length;
    const bad = [
      [{ version: 1, strategy: 'canary' }, 'share'],
      [{ version: 1, strategy: 'canary', share: 1 }, 'share'],
      [{ version: 1, strategy: 'full', share: 0.5 }, 'share'],
      [{ version: 0, strategy: 'full' }, 'version'],
      [{ version: 1, strategy: 'shadow', share: 0.5 }, 'share'],
      [{ version: 1, strategy: 'blue-green', share: 0.5 }, 'share'],
      [{ version: 1, strategy: 'rolling' }, 'strategy'],
      [{ version: 1, strategy: 'ab' }, 'share'],
      [{ version: 1, strategy: 'ab', share: 0.5, labels: 0 }, 'labels'],
      [{ version: 1, strategy: 'canary', share: 0.5, labels: 100 }, 'labels'],
    ] as const;
    for (const [body, field] of bad) {
      const reply = await call('POST', '/models/churn/deploy', body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.issues.map((i: { field: string }) => i.field)).toContain(field);
    }
    expect((await call('POST', '/models/churn/deploy', { version: 9, strategy: 'full' })).status).toBe(404);
    expect((await call('POST', '/models/nobody/deploy', { version: 1, strategy: 'full' })).status).toBe(404);
    await settled();
    expect(events('deployment.requested', 'churn')).toHaveLength(before);
  });

  it('lineage: version -> run, dataset id+hash, code version; dataset hash -> the versions trained on it', async () => {
    await waitFor(() => events('model.registered', 'churn').find((e) => e.data.version === 2), 'churn v2');
    const v1 = (await call('GET', '/models/churn/versions/1/lineage')).body;
    expect(v1).toMatchObject({ model: 'churn', version: 1, dataset: { id: 'churn-ds', hash: 'b'.repeat(64) }, code_version: 'git:111' });
    expect(v1.run_id).toMatch(/^run-/);
    const byDataset = (await call('GET', `/lineage/datasets/${'b'.repeat(64)}`)).body;
    expect(byDataset.model_versions.map((v: { model: string; version: number }) => `${v.model}@${v.version}`)).toEqual(['churn@1', 'churn@2']);
    expect((await call('GET', `/lineage/datasets/${'a'.repeat(64)}`)).body.model_versions).toMatchObject([{ model: 'fraud', version: 1, run_id: 'run-up-1', code_version: 'git:abc123' }]);
    expect((await call('GET', '/models/churn/versions/99/lineage')).status).toBe(404);
  });

  it("README's deploy and promote blocks work as written (the front door's /registry is this registry)", async () => {
    await waitFor(() => events('model.registered', 'churn').find((e) => e.data.version === 2), 'churn v2');
    const [, deploy, promote, list] = readmeBlocks('Registry service');
    const shell = (block: string) =>
      promisify(execFile)('bash', ['-euo', 'pipefail', '-c', block.replaceAll('127.0.0.1:8080/registry', registry.url)], { timeout: 30_000 }).then((r) => r.stdout);
    const run = async (block: string) => JSON.parse(await shell(block));
    const deployed = await run(deploy);
    expect(deployed).toMatchObject({ model: 'churn', version: 2, strategy: 'canary', share: 0.1 });
    await waitFor(() => events('deployment.requested', 'churn').find((e) => e.correlationId === deployed.correlationId), 'the README deployment.requested');
    // Serving runs v1 again (it was drained when v2 was promoted), then v2 as a canary beside it.
    await served('churn', 1, 1);
    await waitFor(async () => (await call('POST', '/models/churn/promote', { version: 1 })).status === 200, 'v1 champion again');
    await served('churn', 2, 0.1);
    await waitFor(async () => (await call('GET', '/models?max_results=1')).body.models[0]?.serving.length === 2, 'the canary recorded');
    expect((await call('GET', '/models?max_results=1')).body.models[0].serving).toEqual([
      // A report that names no strategy (an older serving) is a canary when its share is partial.
      { version: 1, share: 0.9, strategy: 'full' },
      { version: 2, share: 0.1, strategy: 'canary' },
    ]);
    expect(await run(promote)).toMatchObject({ model: 'churn', champion: 2, changed: true });
    const [models, versions, model] = (await shell(list)).split('\n').filter(Boolean).map((line) => JSON.parse(line));
    expect(models.models[0]).toMatchObject({ name: 'churn', champion: 2, versions: 2 });
    expect(model).toMatchObject({ name: 'churn', champion: 2, versions: 2 });
    expect(versions.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
  });

  it('GET /models and GET /models/:name/versions: champion, version count, what serving runs; versions newest first with gate; paged by key', async () => {
    await waitFor(async () => (await call('GET', '/models?max_results=1')).body.models[0]?.champion === 2, 'the README promotion');
    const first = await call('GET', '/models?max_results=2');
    expect(first.status).toBe(200);
    expect(first.body.models.map((m: { name: string }) => m.name)).toEqual(['churn', 'empty']);
    // The promoted canary takes all traffic; serving drained the old stable.
    expect(first.body.models[0]).toMatchObject({ name: 'churn', champion: 2, versions: 2, serving: [{ version: 2, share: 1, strategy: 'canary' }] });
    expect(first.body.models[0].updatedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(first.body.models[1]).toMatchObject({ name: 'empty', champion: null, versions: 0, serving: [] });
    const second = await call('GET', `/models?max_results=2&page_token=${first.body.next_page_token}`);
    expect(second.body.models[0]).toMatchObject({ name: 'fraud', versions: 2 });

    const newest = await call('GET', '/models/churn/versions?max_results=1');
    expect(newest.body.versions).toEqual([
      expect.objectContaining({ version: 2, status: 'READY', aliases: ['champion'], stage: 'Production', gate: expect.objectContaining({ passed: false, metric: 'accuracy' }) }),
    ]);
    const older = await call('GET', `/models/churn/versions?max_results=1&page_token=${newest.body.next_page_token}`);
    expect(older.body.versions).toEqual([
      expect.objectContaining({ version: 1, aliases: [], stage: 'None', gate: expect.objectContaining({ passed: true }), datasetHash: 'b'.repeat(64) }),
    ]);
    expect(older.body.versions[0].runId).toMatch(/^run-/);
    expect(older.body.next_page_token).toBeUndefined();
    expect((await call('GET', '/models/fraud/versions')).body.versions.map((v: { gate: unknown }) => v.gate)).toEqual([null, null]);

    expect(await call('GET', '/models?page_token=nonsense')).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('page_token') } });
    expect((await call('GET', '/models?max_results=0')).body.issues).toEqual([expect.objectContaining({ field: 'max_results' })]);
    expect((await call('GET', '/models/nobody/versions')).status).toBe(404);
    expect((await call('GET', '/models/churn')).body).toEqual(first.body.models[0]);
    expect((await call('GET', '/models/nobody')).status).toBe(404);
  });

  it('a redelivered training.completed registers the version once', async () => {
    const event = trainingCompleted('dupes', join(gateDir, 'good.onnx'));
    await registry.bus.publish(event);
    await registry.bus.publish(event);
    await registry.service.onTrainingCompleted(event);
    await waitFor(() => events('deployment.requested', 'dupes')[0], 'deployment.requested');
    await settled();
    const versions = (await mlflow('POST', '/model-versions/search', { filter: "name = 'dupes'" })).body.model_versions;
    expect(versions).toHaveLength(1);
    // Re-sent follow-ups carry the same ids, so their consumers apply them once too.
    expect(new Set(events('model.registered', 'dupes').map((e) => e.id)).size).toBe(1);
    expect(new Set(events('deployment.requested', 'dupes').map((e) => e.id)).size).toBe(1);
  });

  it("README's release strategy blocks work as written: shadow, A/B and blue-green deployments, then a rollback to the warm previous champion", async () => {
    await waitFor(() => events('model.registered', 'churn').find((e) => e.data.version === 2), 'churn v2');
    const blocks = readmeBlocks('Registry service');
    const [strategies, rollback] = blocks.slice(4);
    const shell = (block: string) =>
      promisify(execFile)('bash', ['-euo', 'pipefail', '-c', block.replaceAll('127.0.0.1:8080/registry', registry.url)], { timeout: 30_000 }).then((r) => r.stdout);
    const [shadow, ab, blueGreen] = (await shell(strategies)).split('}').filter((t) => t.trim()).map((t) => JSON.parse(`${t}}`));
    expect(shadow).toMatchObject({ model: 'churn', version: 2, strategy: 'shadow', share: 0 });
    expect(ab).toMatchObject({ model: 'churn', version: 2, strategy: 'ab', share: 0.5, labels: 300 });
    expect(blueGreen).toMatchObject({ model: 'churn', version: 2, strategy: 'blue-green', share: 1 });
    for (const reply of [shadow, ab, blueGreen]) {
      await waitFor(() => events('deployment.requested', 'churn').find((e) => e.correlationId === reply.correlationId && e.data.strategy === reply.strategy), `the ${reply.strategy} deployment.requested`);
    }
    // v1 champion and serving; then serving reports the blue-green switch to v2.
    await served('churn', 1, 1);
    await waitFor(async () => (await call('POST', '/models/churn/promote', { version: 1 })).status === 200, 'v1 champion');
    await served('churn', 2, 1, 'serving', 'blue-green');
    await waitFor(async () => ((await call('GET', '/models?max_results=1')).body.models[0]?.champion === 2 ? true : undefined), 'v2 champion after the switch');
    expect((await call('GET', '/models/churn')).body.serving).toEqual([{ version: 2, share: 1, strategy: 'blue-green' }]);
    expect(JSON.parse(await shell(rollback))).toMatchObject({ model: 'churn', rolled_back_version: 2, champion: 1 });
    const rolled = await waitFor(() => events('model.rolled_back', 'churn').find((e) => e.data.reason === 'errors after the switch'), 'model.rolled_back');
    expect(rolled.data).toMatchObject({ version: 2, restoredVersion: 1 });
  });

  it('the serving state names the strategy each version was deployed with and the running shadow; a promoted shadow serves all traffic as a shadow deployment', async () => {
    await served('fraud', 1, 1);
    await waitFor(async () => ((await call('GET', '/models/fraud')).body.champion === 1 ? true : undefined), 'fraud v1 champion (the first deployed)');
    expect((await call('GET', '/models/fraud')).body.serving).toEqual([{ version: 1, share: 1, strategy: 'full' }]);
    // A shadow answers no client (share 0) and is listed as the running shadow.
    await served('fraud', 2, 0, 'serving', 'shadow');
    const withShadow = [
      { version: 1, share: 1, strategy: 'full' },
      { version: 2, share: 0, strategy: 'shadow', shadow: true },
    ];
    await waitFor(async () => (JSON.stringify((await call('GET', '/models/fraud')).body.serving) === JSON.stringify(withShadow) ? true : undefined), 'v2 listed as the running shadow');
    // A later shadow replaces it (serving unloads the earlier one).
    expect((await upload('fraud', readFileSync(join(modelsDir, 'logreg_v2.onnx')))).body.model_version).toMatchObject({ version: '3' });
    await served('fraud', 3, 0, 'serving', 'shadow');
    await waitFor(async () => ((await call('GET', '/models/fraud')).body.serving.some((s: { version: number }) => s.version === 3) ? true : undefined), 'v3 the running shadow');
    expect((await call('GET', '/models/fraud')).body.serving).toEqual([
      { version: 1, share: 1, strategy: 'full' },
      { version: 3, share: 0, strategy: 'shadow', shadow: true },
    ]);
    expect((await call('GET', '/models/fraud/versions')).body.versions.find((v: { version: number }) => v.version === 2).serving).toMatchObject({ status: 'unloaded' });
    await served('fraud', 2, 0, 'serving', 'shadow');
    await waitFor(async () => (JSON.stringify((await call('GET', '/models/fraud')).body.serving) === JSON.stringify(withShadow) ? true : undefined), 'v2 the running shadow again');
    await registry.bus.publish(
      createEvent('canary.evaluated', {
        source: 'monitoring',
        subject: 'fraud',
        data: { model: 'fraud', version: 2, championVersion: 1, verdict: 'promote', reason: 'as accurate as the champion', predictions: 100, labels: 50, strategy: 'shadow' },
      }),
    );
    await waitFor(async () => ((await call('GET', '/models/fraud')).body.champion === 2 ? true : undefined), 'the shadow promoted');
    expect((await call('GET', '/models/fraud')).body.serving).toEqual([{ version: 2, share: 1, strategy: 'shadow' }]);
    // Serving drained and unloaded the old stable, as for a promoted canary.
    expect((await call('GET', '/models/fraud/versions')).body.versions.find((v: { version: number }) => v.version === 1).serving).toMatchObject({ status: 'unloaded' });
  });
});

describe('registry gate without a holdout (reported metrics, lower is better)', () => {
  let transport: InProcessTransport;
  let registry: RegistryApp;
  let subscription: Subscription;
  let artifactRoot: string;
  let gateDir: string;
  const seen: { topic: string; value: string; headers: Record<string, string> }[] = [];

  beforeAll(async () => {
    gateDir = mkdtempSync(join(tmpdir(), 'registry-gate-'));
    execFileSync(interopPython(), [resolve(__dirname, '../../../test/fixtures/registry/make_gate_models.py'), gateDir], { stdio: 'pipe' });
    artifactRoot = mkdtempSync(join(tmpdir(), 'registry-artifacts-'));
    transport = new InProcessTransport();
    registry = await startRegistry(
      loadRegistryConfig({
        DATABASE_URL: 'sqlite::memory:',
        REGISTRY_PORT: '0',
        REGISTRY_ARTIFACT_ROOT: artifactRoot,
        REGISTRY_GATE_METRIC: 'log_loss',
        REGISTRY_LOWER_IS_BETTER: 'log_loss,rmse',
        REGISTRY_GATE_TOLERANCE: '0.05',
      }),
      { inProcess: transport, logger: false },
    );
    subscription = await new EventBus(transport).subscribe({
      group: 'observer',
      topics: ['model.registered', 'deployment.requested', 'training.completed.dlq'],
      handle: async (m) => void seen.push({ topic: m.topic, value: m.value.toString(), headers: m.headers as Record<string, string> }),
    });
  }, 120_000);
  afterAll(async () => {
    await subscription?.stop();
    await registry?.close();
    for (const dir of [artifactRoot, gateDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const completed = (artifact: string, logLoss: number, model = 'loans') =>
    createEvent('training.completed', {
      source: 'trainer',
      subject: model,
      data: { jobId: `job-${logLoss}`, model, runId: `run-${logLoss}`, artifactUri: artifact, metrics: { log_loss: logLoss }, params: {} },
    });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const gate = (version: number): Promise<any> => fetch(`${registry.url}/models/loans/versions/${version}/gate`).then((r) => r.json());

  it('compares the reported metric with the configured direction and tolerance, and says so', async () => {
    await registry.bus.publish(completed(`file://${join(gateDir, 'good.onnx')}`, 0.4));
    await waitFor(() => seen.some((m) => m.topic === 'deployment.requested'), 'v1 deployment.requested');
    // Serving reports v1 running: the first deployed version becomes champion.
    await registry.bus.publish(
      createEvent('deployment.completed', { source: 'serving', subject: 'loans', data: { model: 'loans', version: 1, status: 'serving', trafficShare: 1 } }),
    );
    await waitFor(async () => (await fetch(`${registry.url}/api/2.0/mlflow/registered-models/alias?name=loans&alias=champion`)).status === 200, 'loans v1 champion');

    await registry.bus.publish(completed(join(gateDir, 'shuffled.onnx'), 0.44)); // within tolerance 0.05
    await registry.bus.publish(completed(join(gateDir, 'shuffled.onnx'), 0.9)); // worse
    const [second, third] = await waitFor(async () => {
      const decisions = [await gate(2), await gate(3)];
      return decisions.every((d) => d.decision) ? decisions : undefined;
    }, 'the gate decisions');
    expect(second).toMatchObject({ passed: true, basis: 'reported', metric: 'log_loss', higher_is_better: false, candidate_score: 0.44, champion_score: 0.4, champion_version: 1 });
    expect(third).toMatchObject({ passed: false, basis: 'reported', candidate_score: 0.9, champion_score: 0.4 });
    expect(third.reason).toMatch(/as reported by training.*lower is better.*reject/);
    await waitFor(() => seen.filter((m) => m.topic === 'model.registered').length === 3, 'three model.registered');
    // A model of another name after them: once its deployment.requested is seen, so is any of v3.
    await registry.bus.publish(completed(join(gateDir, 'good.onnx'), 0.3, 'marker'));
    await waitFor(() => seen.some((m) => m.topic === 'deployment.requested' && JSON.parse(m.value).data.model === 'marker'), 'the marker deployment.requested');
    const deployed = seen.filter((m) => m.topic === 'deployment.requested' && JSON.parse(m.value).data.model === 'loans').map((m) => JSON.parse(m.value).data.version);
    expect(deployed).toEqual([1, 2]);
  });

  it('sends a training.completed whose artifact is not a valid model to the DLQ and registers nothing', async () => {
    const before = filesUnder(artifactRoot).length;
    const event = completed(resolve(gateDir, 'holdout.json'), 0.1);
    await registry.bus.publish(event);
    const dead = await waitFor(() => seen.find((m) => m.topic === 'training.completed.dlq'), 'the dead letter');
    expect(dead.headers['dlq-error']).toMatch(/not a valid ONNX model/);
    expect(dead.headers['dlq-attempts']).toBe('1');
    const versions: { model_versions: unknown[] } = await fetch(`${registry.url}/api/2.0/mlflow/model-versions/search?filter=${encodeURIComponent("run_id = 'run-0.1'")}`).then((r) => r.json() as Promise<{ model_versions: unknown[] }>);
    expect(versions.model_versions).toEqual([]);
    expect(filesUnder(artifactRoot)).toHaveLength(before);
  });
});
