import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Float64, Table, Utf8, tableToIPC, vectorFromArray, type Vector } from 'apache-arrow';
import { createEvent, decodeHoldoutNpy, EVENT_TYPES } from '@mlops/contracts';
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
 * A release policy on real Kafka and Postgres, with the trainer, the registry, serving and the
 * loop controller as production runs them (built entry points, own processes): the trainer
 * measures slices on the holdout and writes the holdout rows beside the model; the registry's
 * gate holds the candidate to the model's policy, leaving latency to serving, which times the
 * holdout rows during warm-up before routing the version. A candidate as good as the champion
 * that fails fairness is rejected by the gate (no deployment.requested); one that fails latency
 * is deployed with the bound and rejected by serving, never taking traffic, the registry's
 * decision naming latency with what serving measured; in a loop, the loop ends rejected_by_gate
 * naming the failing check.
 */
describe('release policy on real Kafka and Postgres (trainer, registry, serving and loop processes)', () => {
  const infra = infraEnv();
  const kafka: KafkaKitOptions = { clientId: 'policy-it', brokers: infra.KAFKA_BROKERS.split(','), logLevel: 'nothing' };
  const model = `policy-${randomUUID().slice(0, 8)}`;
  const registryGroup = `registry-policy-it-${randomUUID()}`;
  const trainerGroup = `trainer-policy-it-${randomUUID()}`;
  const loopGroup = `loop-policy-it-${randomUUID()}`;
  const servingGroup = `serving-policy-it-${randomUUID()}`;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const seen: { topic: string; event: any }[] = [];
  let registry: ServiceProcess;
  let trainer: ServiceProcess;
  let loop: ServiceProcess;
  let serving: ServiceProcess;
  let servingUrl: string;
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
  const output = () =>
    `\nregistry output:\n${registry.output.join('').slice(-3_000)}\ntrainer output:\n${trainer.output.join('').slice(-3_000)}\nserving output:\n${serving.output.join('').slice(-3_000)}`;
  const deployed = (version: number) =>
    waitFor(() => of('deployment.completed').find((e) => e.data.version === version), `deployment.completed v${version}`, 60_000).catch((error: Error) => {
      throw new Error(`${error.message}${output()}`);
    });
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
    const topics = ['training.completed', 'model.registered', 'deployment.requested', 'deployment.completed', 'model.promoted'];
    const observerGroup = `policy-it-observer-${randomUUID()}`;
    // New groups read from the beginning: these start at the end, so other runs' events are not replayed.
    await startGroupsAtEnd(kafka, {
      [registryGroup]: ['training.completed'],
      [`${registryGroup}.canary`]: ['canary.evaluated', 'deployment.completed'],
      [trainerGroup]: ['dataset.materialized'],
      [servingGroup]: ['deployment.requested', 'model.promoted', 'model.rolled_back'],
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

    const [registryPort, trainerPort, loopPort, servingGrpcPort, servingHttpPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    servingUrl = `http://127.0.0.1:${servingHttpPort}`;
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
    serving = new ServiceProcess('serving', {
      BUS: 'kafka',
      KAFKA_BROKERS: infra.KAFKA_BROKERS,
      SERVING_GRPC_PORT: String(servingGrpcPort),
      SERVING_HTTP_PORT: String(servingHttpPort),
      SERVING_GROUP: servingGroup,
      INSTANCE_ID: `it-${randomUUID()}`,
    });
    registry.start();
    trainer.start();
    loop.start();
    serving.start();
    await registry.waitUntilReady(`${registryUrl}/health/ready`);
    await trainer.waitUntilReady(`${trainerUrl}/health/ready`);
    await loop.waitUntilReady(`${loopUrl}/health/ready`);
    await serving.waitUntilReady(`${servingUrl}/health/live`);
  }, 120_000);
  afterAll(async () => {
    await observer?.stop();
    await producer?.close();
    await registry?.stop();
    await trainer?.stop();
    await loop?.stop();
    await serving?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the trainer reports per-slice accuracy measured on the holdout and writes its rows beside the model; a first version passes the default policy and serving runs it', async () => {
    const registered = await train(1);
    expect(registered.data.gate).toMatchObject({ passed: true, failedChecks: [] });
    const completed = await waitFor(() => of('training.completed')[0], 'training.completed');
    expect(completed.data.holdoutUri).toBe(join(dirname(completed.data.artifactUri), 'holdout.npy'));
    const holdout = decodeHoldoutNpy(readFileSync(completed.data.holdoutUri));
    // 900 rows, the trainer's default testFraction 0.2; the features in the model's input order.
    expect(holdout).toMatchObject({ rows: 180, features: completed.data.params.features.split(',').length });
    expect(completed.data.metrics['accuracy/region/south']).toBeLessThan(completed.data.metrics['accuracy/region/north'] - 0.1);
    const requested = await waitFor(() => of('deployment.requested').find((e) => e.data.version === 1), 'deployment.requested v1');
    expect(requested.data.validation).toBeUndefined();
    // serving runs v1 (the model's first version takes all traffic): it becomes champion.
    expect((await deployed(1)).data).toMatchObject({ status: 'serving', trafficShare: 1 });
    await waitFor(() => of('model.promoted')[0], 'model.promoted v1');
  }, 120_000);

  it('fairness is the gate`s: a candidate as good as the champion outside the gap is rejected naming it (latency pending), with no deployment.requested', async () => {
    const policy = await call(registryUrl, 'PUT', `/models/${model}/policy`, { latencyP99Ms: 0.000001, slices: { column: 'region', metric: 'accuracy', maxGap: 0.05 } });
    expect(policy).toMatchObject({ version: 1, changed: true });
    const registered = await train(2);
    expect(registered.data.gate).toMatchObject({ passed: false, failedChecks: ['fairness'] });
    expect(registered.data.gate.reason).toMatch(/^failing checks of release policy version 1: fairness \(worst slice region south accuracy .*; latency pending: serving measures p99 latency during warm-up/);
    const gate = await call(registryUrl, 'GET', `/models/${model}/versions/2/gate`);
    expect(gate).toMatchObject({ passed: false, policy_version: 1, champion_version: 1, failed_checks: ['fairness'], pending_checks: ['latency'] });
    const [champion, latency, fairness] = gate.checks;
    // Same data, same params: the same model, exactly as good as the champion.
    expect(champion).toMatchObject({ name: 'champion', passed: true });
    expect(champion.measured).toBe(champion.bound);
    expect(latency).toMatchObject({ name: 'latency', passed: null, measured: null, bound: 0.000001 });
    expect(fairness).toMatchObject({ name: 'fairness', passed: false, bound: 0.05 });
    expect(fairness.measured).toBeGreaterThan(0.05);
  }, 120_000);

  it("latency is serving's: a candidate that passes the gate is deployed with the bound, rejected by serving's warm-up with the measured p99, never takes traffic, and the registry's decision names latency", async () => {
    // Fairness relaxed (a new policy version), the latency bound kept.
    expect(await call(registryUrl, 'PUT', `/models/${model}/policy`, { latencyP99Ms: 0.000001, slices: { column: 'region', metric: 'accuracy', maxGap: 0.5 } })).toMatchObject({
      version: 2,
      changed: true,
    });
    const registered = await train(3);
    expect(registered.data.gate).toMatchObject({ passed: true, failedChecks: [] });
    const requested = await waitFor(() => of('deployment.requested').find((e) => e.data.version === 3), 'deployment.requested v3');
    // The holdout rows travel as the model does: copied into the registry's store.
    expect(requested.data.validation).toEqual({ latencyP99Ms: 0.000001, holdoutUri: expect.stringMatching(new RegExp(`^${join(dir, 'registry')}/sha256/.*\\.npy$`)) });
    const rejected = (await deployed(3)).data;
    expect(rejected).toMatchObject({ status: 'rejected', trafficShare: 0, checks: [{ name: 'latency', passed: false, bound: 0.000001 }] });
    const measured = rejected.checks[0].measured;
    expect(measured).toBeGreaterThan(0.000001);

    const gate = await waitFor(async () => {
      const decision = await call(registryUrl, 'GET', `/models/${model}/versions/3/gate`);
      return decision.passed === false ? decision : undefined;
    }, "the registry's decision on v3 updated by serving");
    expect(gate).toMatchObject({ policy_version: 2, failed_checks: ['latency'], pending_checks: [] });
    expect(gate.checks.find((c: { name: string }) => c.name === 'champion')).toMatchObject({ passed: true });
    expect(gate.checks.find((c: { name: string }) => c.name === 'latency')).toMatchObject({ passed: false, measured, bound: 0.000001 });
    expect(gate.reason).toMatch(new RegExp(`^failing checks of release policy version 2: latency \\(p99 ${measured} ms > bound 0.000001 ms \\(\\d+ holdout rows, one per request`));
    await waitFor(() => registry.output.join('').includes(`gate: version 3 of '${model}' rejected by serving's warm-up: p99 ${measured} ms > bound 0.000001 ms`) || undefined, 'the rejection logged');
    const promote = await fetch(`${registryUrl}/models/${model}/promote`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ version: 3 }) });
    expect(promote.status).toBe(409);
    expect(((await promote.json()) as { message: string }).message).toContain('serving rejected it before routing it');
    const listed = (await call(registryUrl, 'GET', `/models/${model}/versions?max_results=1`)).versions[0];
    expect(listed).toMatchObject({ version: 3, serving: { status: 'rejected', share: 0 } });

    // No request reaches v3: it is not loaded, and unversioned requests are answered by v1.
    expect((await fetch(`${servingUrl}/v2/models/${model}/versions/3/ready`)).status).toBe(404);
    const { inputs } = await call(servingUrl, 'GET', `/v2/models/${model}`);
    const width = of('training.completed')[0].data.params.features.split(',').length;
    for (let i = 0; i < 10; i++) {
      const row = Array.from({ length: width }, (_, f) => (i + f) / 10);
      const answer = await call(servingUrl, 'POST', `/v2/models/${model}/infer`, { inputs: [{ name: inputs[0].name, datatype: 'FP32', shape: [1, width], data: row }] });
      expect(answer.model_version).toBe('1');
    }
    expect(serving.output.join('')).toContain(`deployment of '${model}' version 3 rejected by its warm-up check, unloaded and never routed: latency p99 ${measured} ms > bound 0.000001 ms`);
    expect([...new Set(of('deployment.requested').map((e) => e.data.version))]).toEqual([1, 3]);
    expect((await call(registryUrl, 'GET', `/models/${model}/policy/versions`)).versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
  }, 180_000);

  it("in a loop: the candidate serving's warm-up rejects ends the loop rejected_by_gate, latency named in its reason with measured and bound", async () => {
    const cid = `policy-loop-${randomUUID()}`;
    await producer.publish(
      createEvent('drift.detected', {
        source: 'policy-it',
        subject: model,
        correlationId: cid,
        data: {
          model,
          version: 1,
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
    // The retrained candidate of this loop: the model the trainer made above, with its metrics and holdout.
    const trained = of('training.completed')[1];
    await producer.publish(
      createEvent('training.completed', {
        source: 'policy-it',
        subject: model,
        correlationId: cid,
        data: {
          jobId: `loop-${randomUUID().slice(0, 8)}`,
          model,
          runId: trained.data.runId,
          artifactUri: trained.data.artifactUri,
          holdoutUri: trained.data.holdoutUri,
          metrics: trained.data.metrics,
          params: {},
        },
      }),
    );
    const closed = await waitFor(
      async () => {
        const { loop: detail } = await call(loopUrl, 'GET', `/api/loops/${cid}`);
        return detail.status === 'closed' ? detail : undefined;
      },
      'the loop closed',
      60_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}${output()}`);
    });
    expect(closed).toMatchObject({ outcome: 'rejected_by_gate', candidateVersion: 4 });
    expect(closed.outcomeReason).toMatch(/^serving's warm-up rejected version 4: latency p99 [0-9.]+ ms > bound 0.000001 ms \(\d+ holdout rows, one per request, after 5 untimed\)$/);
    expect((await deployed(4)).correlationId).toBe(cid);
  }, 180_000);
});
