import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Float64, Table, Utf8, tableToIPC, vectorFromArray, type Vector } from 'apache-arrow';
import { createEvent, EVENT_TYPES } from '@mlops/contracts';
import { createEventBus, observeKafka, startGroupsAtEnd, type EventBus, type KafkaKitOptions, type Subscription } from '@mlops/bus';
import { infraEnv } from '../../../../test/infra/infra-env';
import { freePort, ServiceProcess } from '../../../../test/support/service-process';
import { waitFor } from '../../../../test/support/wait-for';

/** label = [x1 + 2*x2 > 1], except in region "south", where about a third of the labels are flipped (an unfair slice). */
function writeRegions(path: string, rows = 900): void {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const out = Array.from({ length: rows }, (_, i) => {
    const x1 = random() * 4 - 2;
    const x2 = random() * 4 - 2;
    const region = ['north', 'south', 'east'][i % 3];
    const clean = x1 + 2 * x2 > 1 ? 1 : 0;
    return { x1, x2, region, label: region === 'south' && random() < 0.35 ? 1 - clean : clean };
  });
  const table = new Table({
    x1: vectorFromArray(out.map((r) => r.x1), new Float64()) as Vector,
    x2: vectorFromArray(out.map((r) => r.x2), new Float64()) as Vector,
    region: vectorFromArray(out.map((r) => r.region), new Utf8()) as Vector,
    label: vectorFromArray(out.map((r) => r.label), new Float64()) as Vector,
  });
  writeFileSync(path, tableToIPC(table, 'file'));
}

/**
 * A release policy on real Kafka and Postgres, with the trainer, the registry and the loop
 * controller as production runs them (built entry points, own processes): the trainer measures
 * latency and slices on the holdout and publishes training.completed; the registry's gate holds
 * the candidate to the model's policy. A candidate as good as the champion that fails latency
 * and fairness is registered, rejected with those checks named, and gets no
 * deployment.requested; in a loop, the loop ends rejected_by_gate naming the failing check.
 */
describe('release policy on real Kafka and Postgres (trainer, registry and loop processes)', () => {
  const infra = infraEnv();
  const kafka: KafkaKitOptions = { clientId: 'policy-it', brokers: infra.KAFKA_BROKERS.split(','), logLevel: 'nothing' };
  const model = `policy-${randomUUID().slice(0, 8)}`;
  const registryGroup = `registry-policy-it-${randomUUID()}`;
  const trainerGroup = `trainer-policy-it-${randomUUID()}`;
  const loopGroup = `loop-policy-it-${randomUUID()}`;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const seen: { topic: string; event: any }[] = [];
  let registry: ServiceProcess;
  let trainer: ServiceProcess;
  let loop: ServiceProcess;
  let loopUrl: string;
  let observer: Subscription;
  let producer: EventBus;
  let registryUrl: string;
  let trainerUrl: string;
  let dir: string;

  const of = (topic: string) => seen.filter((m) => m.topic === topic && m.event.data?.model === model).map((m) => m.event);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const call = (base: string, method: string, path: string, body?: unknown): Promise<any> =>
    fetch(`${base}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) }).then((r) =>
      r.json(),
    );
  const output = () => `\nregistry output:\n${registry.output.join('').slice(-3_000)}\ntrainer output:\n${trainer.output.join('').slice(-3_000)}`;
  /** Trains the model on the regions dataset (same data and params: the same model) and waits for its model.registered. */
  const train = async (version: number) => {
    const job = await call(trainerUrl, 'POST', '/jobs', { model, datasetUri: join(dir, 'regions.arrow'), target: 'label', params: { epochs: 100, slice_column: 'region' } });
    expect(job.jobId).toBeDefined();
    return waitFor(() => of('model.registered').find((e) => e.data.version === version), `model.registered v${version}`, 90_000).catch((error: Error) => {
      throw new Error(`${error.message}${output()}`);
    });
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'policy-it-'));
    writeRegions(join(dir, 'regions.arrow'));
    const topics = ['training.completed', 'model.registered', 'deployment.requested', 'model.promoted'];
    const observerGroup = `policy-it-observer-${randomUUID()}`;
    // New groups read from the beginning: these start at the end, so other runs' events are not replayed.
    await startGroupsAtEnd(kafka, {
      [registryGroup]: ['training.completed'],
      [`${registryGroup}.canary`]: ['canary.evaluated', 'deployment.completed'],
      [trainerGroup]: ['dataset.materialized'],
      // Every event type: the loop's group reads more topics than this spec sends (deployment.completed,
      // model.promoted, ...), and replaying their history once ended this loop otherwise in CI.
      [loopGroup]: [...EVENT_TYPES],
      [`${loopGroup}.new-data`]: ['data.validated'],
      [observerGroup]: topics,
    });
    observer = await observeKafka(kafka, { group: observerGroup, topics }, (message) => {
      seen.push({ topic: message.topic, event: JSON.parse(message.value.toString()) });
    });
    producer = createEventBus({ BUS: 'kafka', KAFKA_BROKERS: kafka.brokers, KAFKA_SSL: false }, { service: 'policy-it' });

    const [registryPort, trainerPort, loopPort] = [await freePort(), await freePort(), await freePort()];
    loopUrl = `http://127.0.0.1:${loopPort}`;
    registryUrl = `http://127.0.0.1:${registryPort}`;
    trainerUrl = `http://127.0.0.1:${trainerPort}`;
    registry = new ServiceProcess('registry', {
      BUS: 'kafka',
      KAFKA_BROKERS: infra.KAFKA_BROKERS,
      DATABASE_URL: infra.DATABASE_URL,
      REGISTRY_PORT: String(registryPort),
      REGISTRY_GROUP: registryGroup,
      REGISTRY_ARTIFACT_ROOT: join(dir, 'registry'),
      INSTANCE_ID: `it-${randomUUID()}`,
    });
    trainer = new ServiceProcess('trainer', {
      BUS: 'kafka',
      KAFKA_BROKERS: infra.KAFKA_BROKERS,
      TRAINER_PORT: String(trainerPort),
      TRAINER_GROUP: trainerGroup,
      TRAINER_ARTIFACT_ROOT: join(dir, 'models'),
      INSTANCE_ID: `it-${randomUUID()}`,
    });
    loop = new ServiceProcess('loop', {
      BUS: 'kafka',
      KAFKA_BROKERS: infra.KAFKA_BROKERS,
      DATABASE_URL: infra.DATABASE_URL,
      LOOP_PORT: String(loopPort),
      LOOP_GROUP: loopGroup,
      LOOP_FEATURE_VIEWS: `${model}:regions`,
      INSTANCE_ID: `it-${randomUUID()}`,
    });
    registry.start();
    trainer.start();
    loop.start();
    await registry.waitUntilReady(`${registryUrl}/health/ready`);
    await trainer.waitUntilReady(`${trainerUrl}/health/ready`);
    await loop.waitUntilReady(`${loopUrl}/health/ready`);
  }, 120_000);
  afterAll(async () => {
    await observer?.stop();
    await producer?.close();
    await registry?.stop();
    await trainer?.stop();
    await loop?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the trainer reports p99 latency and per-slice accuracy measured on the holdout; a first version passes the default policy', async () => {
    const registered = await train(1);
    expect(registered.data.gate).toMatchObject({ passed: true, failedChecks: [] });
    const completed = await waitFor(() => of('training.completed')[0], 'training.completed');
    expect(completed.data.metrics.inference_p99_ms).toBeGreaterThan(0);
    expect(completed.data.metrics['accuracy/region/south']).toBeLessThan(completed.data.metrics['accuracy/region/north'] - 0.1);
    await waitFor(() => of('deployment.requested').find((e) => e.data.version === 1), 'deployment.requested v1');
    // serving's report that it runs v1: the first version serving becomes champion.
    await producer.publish(createEvent('deployment.completed', { source: 'serving', subject: model, data: { model, version: 1, status: 'serving', trafficShare: 1 } }));
    await waitFor(() => of('model.promoted')[0], 'model.promoted v1');
  }, 120_000);

  it('a candidate as good as the champion that fails the latency bound and the fairness gap is rejected with both checks named; no deployment.requested', async () => {
    const policy = await call(registryUrl, 'PUT', `/models/${model}/policy`, { latencyP99Ms: 0.000001, slices: { column: 'region', metric: 'accuracy', maxGap: 0.05 } });
    expect(policy).toMatchObject({ version: 1, changed: true });
    const registered = await train(2);
    expect(registered.data.gate).toMatchObject({ passed: false, failedChecks: ['latency', 'fairness'] });
    expect(registered.data.gate.reason).toMatch(/^failing checks of release policy version 1: latency \(p99 inference latency .* ms > 0.000001 ms\), fairness \(worst slice region south accuracy/);
    const gate = await call(registryUrl, 'GET', `/models/${model}/versions/2/gate`);
    expect(gate).toMatchObject({ passed: false, policy_version: 1, champion_version: 1, failed_checks: ['latency', 'fairness'] });
    const [champion, latency, fairness] = gate.checks;
    // Same data, same params: the same model, exactly as good as the champion.
    expect(champion).toMatchObject({ name: 'champion', passed: true });
    expect(champion.measured).toBe(champion.bound);
    expect(latency).toMatchObject({ name: 'latency', passed: false, bound: 0.000001 });
    expect(latency.measured).toBeGreaterThan(0);
    expect(fairness).toMatchObject({ name: 'fairness', passed: false, bound: 0.05 });
    expect(fairness.measured).toBeGreaterThan(0.05);

    // The relaxed policy (a new version) lets the next, identical candidate through. Its
    // deployment.requested shares the model's key, so one for v2 would have arrived before it.
    expect(await call(registryUrl, 'PUT', `/models/${model}/policy`, { slices: { column: 'region', metric: 'accuracy', maxGap: 0.5 } })).toMatchObject({ version: 2, changed: true });
    const next = await train(3);
    expect(next.data.gate).toMatchObject({ passed: true, failedChecks: [] });
    await waitFor(() => of('deployment.requested').find((e) => e.data.version === 3), 'deployment.requested v3');
    expect([...new Set(of('deployment.requested').map((e) => e.data.version))]).toEqual([1, 3]);
    expect((await call(registryUrl, 'GET', `/models/${model}/policy/versions`)).versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
  }, 240_000);

  it('in a loop: the candidate the policy rejects ends the loop rejected_by_gate, the failing check named in its reason', async () => {
    const cid = `policy-loop-${randomUUID()}`;
    await producer.publish(
      createEvent('drift.detected', {
        source: 'policy-it',
        subject: model,
        correlationId: cid,
        data: {
          model,
          version: 3,
          window: { start: new Date(Date.now() - 1000).toISOString(), end: new Date().toISOString(), size: 300 },
          datasetDrift: { share: 1, threshold: 0.5 },
          features: [{ feature: 'x1', statistic: 'ks', value: 0.4, threshold: 0.05, drifted: true }],
        },
      }),
    );
    await waitFor(async () => (await fetch(`${loopUrl}/api/loops/${cid}`)).status === 200, 'the loop opened by the drift', 60_000).catch((error: Error) => {
      throw new Error(`${error.message}\nloop output:\n${loop.output.join('').slice(-3_000)}`);
    });
    expect(await call(registryUrl, 'PUT', `/models/${model}/policy`, { latencyP99Ms: 0.000001 })).toMatchObject({ version: 3, changed: true });
    // The retrained candidate of this loop: the model the trainer made above, with the metrics it measured.
    const trained = of('training.completed')[1];
    await producer.publish(
      createEvent('training.completed', {
        source: 'policy-it',
        subject: model,
        correlationId: cid,
        data: { jobId: `loop-${randomUUID().slice(0, 8)}`, model, runId: trained.data.runId, artifactUri: trained.data.artifactUri, metrics: trained.data.metrics, params: {} },
      }),
    );
    const closed = await waitFor(
      async () => {
        const { loop: detail } = await call(loopUrl, 'GET', `/api/loops/${cid}`);
        return detail.status === 'closed' ? detail : undefined;
      },
      'the loop closed',
      60_000,
    );
    expect(closed).toMatchObject({ outcome: 'rejected_by_gate', candidateVersion: 4 });
    expect(closed.outcomeReason).toMatch(/^the registry's gate rejected version 4: failing checks of release policy version 3: latency \(p99 inference latency .* ms > 0.000001 ms\); /);
  }, 180_000);
});
