import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createEventBus, observeKafka, startGroupsAtEnd, type EventBus, type KafkaKitOptions, type Subscription } from '@mlops/bus';
import { createEvent, type EventEnvelope } from '@mlops/contracts';
import { infraEnv } from '../../../test/infra/infra-env';
import { interopPython } from '../../../test/support/python';
import { freePort, ServiceProcess } from '../../../test/support/service-process';
import { waitFor } from '../../../test/support/wait-for';

interface Seen {
  topic: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  event: any;
  headers: Record<string, string>;
}

/**
 * The registry as production runs it (its built entry point, its own process) on real Kafka
 * and Postgres: training.completed in, the quality gate, model.registered and
 * deployment.requested (or a recorded rejection) out, read back from Kafka.
 */
describe('registry on real Kafka and Postgres (own process, production entry point)', () => {
  const infra = infraEnv();
  const kafka: KafkaKitOptions = { clientId: 'registry-it', brokers: infra.KAFKA_BROKERS.split(','), logLevel: 'nothing' };
  const model = `it-${randomUUID().slice(0, 8)}`;
  const group = `registry-it-${randomUUID()}`;
  const seen: Seen[] = [];
  let registry: ServiceProcess;
  let observer: Subscription;
  let producer: EventBus;
  let url: string;
  let gateDir: string;
  let artifactRoot: string;

  const of = (topic: string) => seen.filter((m) => m.topic === topic && (m.event.data?.model ?? JSON.parse(m.event.raw ?? '{}').data?.model) === model);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const get = (path: string): Promise<any> => fetch(`${url}${path}`).then((r) => r.json());
  const completed = (artifact: string, extra: Partial<EventEnvelope<'training.completed'>['data']> = {}) =>
    createEvent('training.completed', {
      source: 'trainer',
      subject: model,
      data: { jobId: `job-${randomUUID().slice(0, 8)}`, model, runId: `run-${randomUUID().slice(0, 8)}`, artifactUri: artifact, metrics: { accuracy: 0.9 }, params: {}, ...extra },
    });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const post = (path: string, body: unknown): Promise<{ status: number; body: any }> =>
    fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, body: await r.json() }));
  const send = async (...events: ReturnType<typeof completed>[]) => {
    await producer.publish(events);
  };

  beforeAll(async () => {
    gateDir = mkdtempSync(join(tmpdir(), 'registry-it-gate-'));
    execFileSync(interopPython(), [resolve(__dirname, '../../../test/fixtures/registry/make_gate_models.py'), gateDir], { stdio: 'pipe' });
    artifactRoot = mkdtempSync(join(tmpdir(), 'registry-it-artifacts-'));

    const topics = ['training.completed', 'training.completed.dlq', 'model.registered', 'deployment.requested', 'model.promoted'];
    // A new consumer group reads from the beginning: start this one at the end, so events
    // other runs left on the topic (whose artifacts are gone) are not replayed.
    // (Right after a topic is created its leaders may still be moving: retried until they answer.)
    // The observer starts at the end too: reading every topic's history first (other specs'
    // aborted transactions included) once held model.registered back past a test's timeout.
    const observerGroup = `registry-it-observer-${randomUUID()}`;
    await startGroupsAtEnd(kafka, { [group]: ['training.completed'], [`${group}.canary`]: ['canary.evaluated', 'deployment.completed'], [observerGroup]: topics.slice(1) });

    observer = await observeKafka(kafka, { group: observerGroup, topics: topics.slice(1) }, (message) => {
      const value = message.value.toString();
      seen.push({ topic: message.topic, event: message.topic.endsWith('.dlq') ? { raw: value } : JSON.parse(value), headers: message.headers });
    });
    producer = createEventBus({ BUS: 'kafka', KAFKA_BROKERS: kafka.brokers, KAFKA_SSL: false }, { service: 'registry-it' });

    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    registry = new ServiceProcess('registry', {
      BUS: 'kafka',
      KAFKA_BROKERS: infra.KAFKA_BROKERS,
      DATABASE_URL: infra.DATABASE_URL,
      REGISTRY_PORT: String(port),
      REGISTRY_GROUP: group,
      REGISTRY_ARTIFACT_ROOT: artifactRoot,
      REGISTRY_HOLDOUT_PATH: join(gateDir, 'holdout.json'),
      REGISTRY_CANARY_SHARE: '0.25',
      INSTANCE_ID: `it-${randomUUID()}`,
    });
    registry.start();
    await registry.waitUntilReady(`${url}/health/ready`);
  }, 120_000);
  afterAll(async () => {
    await observer?.stop();
    await producer?.close();
    await registry?.stop();
    for (const dir of [gateDir, artifactRoot]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a first model passes the gate: model.registered and a canary deployment.requested on Kafka, the version in Postgres', async () => {
    const event = completed(join(gateDir, 'good.onnx'), { datasetHash: 'd'.repeat(64), codeVersion: 'git:it' });
    await send(event);
    const deployment = await waitFor(() => of('deployment.requested')[0], 'deployment.requested', 60_000).catch((error: Error) => {
      throw new Error(`${error.message}\nregistry output:\n${registry.output.join('').slice(-3_000)}`);
    });
    expect(deployment.event).toMatchObject({ source: 'registry', subject: model, correlationId: event.correlationId, data: { model, version: 1, strategy: 'canary', canaryShare: 0.25 } });
    expect(deployment.headers['correlation-id']).toBe(event.correlationId);
    const registered = await waitFor(() => of('model.registered')[0], 'model.registered').catch((error: Error) => {
      throw new Error(`${error.message}\nseen: ${seen.map((m) => m.topic).join(', ')}\nregistry output:\n${registry.output.join('').slice(-3_000)}`);
    });
    expect(registered.event).toMatchObject({ correlationId: event.correlationId, data: { model, version: 1, runId: event.data.runId, datasetHash: 'd'.repeat(64) } });
    const version = (await get(`/api/2.0/mlflow/model-versions/get?name=${model}&version=1`)).model_version;
    expect(version).toMatchObject({ version: '1', run_id: event.data.runId, code_version: 'git:it', aliases: ['challenger'] });
    expect(deployment.event.data.artifactUri).toBe(version.artifact_uri);
    expect(await get(`/models/${model}/versions/1/gate`)).toMatchObject({ passed: true, basis: 'no-champion' });
  });

  it('starts quietly: no warning (kafkajs on Node 24 used to print TimeoutNegativeWarning) and no ERROR line', async () => {
    // Its consumers have joined once the first test's event is handled; the start is over by then.
    await waitFor(() => of('model.registered')[0], 'model.registered', 60_000);
    const output = registry.output.join('');
    expect(output).toMatch(/registry listening/);
    expect(output).not.toMatch(/Warning|\bERROR\b/);
  });

  it('a training.completed delivered twice registers one version; the follow-ups keep their ids', async () => {
    await waitFor(() => of('model.registered').length >= 1, 'the first version');
    const event = completed(join(gateDir, 'good.onnx'));
    await send(event, event);
    const mine = () => of('model.registered').filter((m) => m.event.correlationId === event.correlationId);
    await waitFor(() => mine()[0], 'model.registered for the duplicate');
    // Both copies are handled once the later copy's partition offset moved past it; a
    // marker event sent after them on the same key (same partition) shows when that is.
    const marker = completed(join(gateDir, 'good.onnx'));
    await send(marker);
    await waitFor(() => of('model.registered').some((m) => m.event.correlationId === marker.correlationId), 'the marker version');
    const versions = (await get(`/api/2.0/mlflow/model-versions/search?filter=${encodeURIComponent(`name = '${model}'`)}`)).model_versions;
    expect(versions.filter((v: { run_id: string }) => v.run_id === event.data.runId)).toHaveLength(1);
    expect(new Set(mine().map((m) => m.event.id)).size).toBe(1);
    expect(versions.map((v: { version: string }) => v.version)).toEqual(['3', '2', '1']);
  });

  it('against a champion, a worse candidate is rejected on the holdout: registered, no deployment.requested, the decision recorded', async () => {
    await waitFor(() => of('model.registered').length >= 3, 'three versions');
    // Serving has not reported v1: promoting it is refused (409) saying how to deploy it, and nothing changes.
    const refused = await post(`/models/${model}/promote`, { version: 1 });
    expect(refused.status).toBe(409);
    expect(refused.body.message).toContain(`deploy it first: POST /registry/models/${model}/deploy {"version":1,"strategy":"full"}`);
    // serving's deployment.completed, recorded in Postgres: the first version serving becomes champion.
    await producer.publish(createEvent('deployment.completed', { source: 'serving', subject: model, data: { model, version: 1, status: 'serving', trafficShare: 1 } }));
    await waitFor(() => of('model.promoted')[0], 'model.promoted');
    expect((await post(`/models/${model}/promote`, { version: 1 })).body).toMatchObject({ champion: 1, changed: false });

    const worse = completed(join(gateDir, 'shuffled.onnx'), { metrics: { accuracy: 0.99 } });
    await send(worse);
    const registered = await waitFor(() => of('model.registered').find((m) => m.event.correlationId === worse.correlationId), 'model.registered for the worse model');
    expect(registered.event.data.version).toBe(4);
    const gate = await get(`/models/${model}/versions/4/gate`);
    expect(gate).toMatchObject({ passed: false, decision: 'reject', basis: 'holdout', champion_version: 1 });
    expect(gate.candidate_score).toBeLessThan(gate.champion_score);
    // deployment.requested is keyed by model, so one partition holds them in order: once a
    // later, passing candidate's request has arrived, one for v4 would have arrived before it.
    const better = completed(join(gateDir, 'good.onnx'));
    await send(better);
    const next = await waitFor(() => of('deployment.requested').find((m) => m.event.correlationId === better.correlationId), 'deployment.requested for v5');
    expect(next.event.data.version).toBe(5);
    // (The duplicated event's follow-ups were re-sent under the same ids: count each id once.)
    const requests = new Map(of('deployment.requested').map((m) => [m.event.id, m.event.data.version]));
    expect([...requests.values()]).toEqual([1, 2, 3, 5]);
    expect(await get(`/models/${model}/versions/5/gate`)).toMatchObject({ passed: true, champion_version: 1 });
    expect((await get(`/api/2.0/mlflow/registered-models/alias?name=${model}&alias=champion`)).model_version.version).toBe('1');
  });

  it('deploy by hand publishes deployment.requested on Kafka with the correlation id it answers', async () => {
    await waitFor(() => of('model.registered').length >= 5, 'five versions');
    const reply = await post(`/models/${model}/deploy`, { version: 3, strategy: 'canary', share: 0.25 });
    expect(reply).toMatchObject({ status: 202, body: { model, version: 3, strategy: 'canary', share: 0.25 } });
    const requested = await waitFor(() => of('deployment.requested').find((m) => m.event.correlationId === reply.body.correlationId), 'the deployment.requested');
    expect(requested.event.data).toMatchObject({ model, version: 3, strategy: 'canary', canaryShare: 0.25 });
    expect(await post(`/models/${model}/deploy`, { version: 3, strategy: 'canary' })).toMatchObject({ status: 400, body: { issues: [{ field: 'share' }] } });

    // The listings, paged in Postgres: the model with its champion and what serving reported running.
    let found: { name: string } | undefined;
    let token: string | undefined;
    do {
      const page = await get(`/models?max_results=50${token ? `&page_token=${token}` : ''}`);
      found = page.models.find((m: { name: string }) => m.name === model);
      token = page.next_page_token;
    } while (!found && token);
    expect(found).toMatchObject({ name: model, champion: 1, versions: 5, serving: [{ version: 1, share: 1 }] });
    const newest = await get(`/models/${model}/versions?max_results=2`);
    expect(newest.versions.map((v: { version: number }) => v.version)).toEqual([5, 4]);
    expect(newest.versions[1]).toMatchObject({ gate: { passed: false, metric: 'accuracy' }, stage: 'None' });
    const rest = await get(`/models/${model}/versions?max_results=10&page_token=${newest.next_page_token}`);
    expect(rest.versions.map((v: { version: number }) => v.version)).toEqual([3, 2, 1]);
    expect(rest.next_page_token).toBeUndefined();
  });

  it('a training.completed whose artifact is not a model goes to training.completed.dlq, nothing registered', async () => {
    const bad = completed(join(gateDir, 'holdout.json'));
    await send(bad);
    const dead = await waitFor(() => seen.find((m) => m.topic === 'training.completed.dlq' && m.headers['event-id'] === bad.id), 'the dead letter', 60_000);
    expect(dead.headers['dlq-error']).toMatch(/not a valid ONNX model/);
    expect(dead.headers['dlq-consumer-group']).toBe(group);
    const versions = (await get(`/api/2.0/mlflow/model-versions/search?filter=${encodeURIComponent(`run_id = '${bad.data.runId}'`)}`)).model_versions;
    expect(versions).toEqual([]);
  });
});
