import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { createEventBus, observeKafka, startGroupsAtEnd, type EventBus, type KafkaKitOptions, type Subscription } from '@mlops/bus';
import { createEvent, decodePredictionTensors, PredictionRows, type AnyEvent, type EventEnvelope } from '@mlops/contracts';
import { call, inferenceClient, type InferenceClient } from '../../services/serving/test/models';
import { infraEnv } from '../infra/infra-env';
import { interopPython } from '../support/python';
import { freePort, ServiceProcess } from '../support/service-process';
import { waitFor } from '../support/wait-for';

interface InferResponse {
  model_version: string;
  parameters: Record<string, { string_param?: string }>;
  outputs: { name: string; contents: Record<string, unknown[]> }[];
}

/** What a client gets: the version that answered and every output's contents. */
const answerOf = (r: InferResponse) => ({ version: r.model_version, outputs: r.outputs.map((o) => [o.name, o.contents]) });

/**
 * Labels each side of an A/B test needs (the monitoring process's MONITORING_AB_LABELS): on 80
 * a side the z-test found the model trained on real labels (0.845 holdout accuracy) better than
 * the one trained on shuffled labels (0.44) at alpha 0.05 in every one of 20,000 simulated
 * random splits of these requests (on 40, it missed in 1 of 20).
 */
const AB_LABELS = 80;
/** Requests through serving per A/B round (the holdout rows in turn), every one labelled: each side gets well over the labels it needs. */
const AB_REQUESTS = 300;

/**
 * Release strategies across processes on real Kafka and Postgres: registry (deploy and
 * rollback routes, verdicts), serving (gRPC) and monitoring (shadow and A/B verdicts), each its built
 * entry point. Shadow: answers are unchanged request by request, the shadow's predictions are
 * logged marked shadow, and a worse shadow is dropped on labels. Blue-green: a client loop
 * sees no failure across the switch, and a rollback returns to the warm old version with no load.
 * A/B (a model of its own): the split of answers follows the share, and labels sent to the
 * monitor's POST /labels decide: a better challenger promoted, a worse one rolled back.
 */
describe('release strategies across processes: shadow, blue-green and A/B (real Kafka, Postgres)', () => {
  const infra = infraEnv();
  const kafka: KafkaKitOptions = { clientId: 'strategies-it', brokers: infra.KAFKA_BROKERS.split(','), logLevel: 'nothing' };
  const run = randomUUID().slice(0, 8);
  const model = `strategies-${run}`;
  const abModel = `strategies-ab-${run}`;
  const groups = { registry: `strategies-registry-${run}`, serving: `strategies-serving-${run}`, monitoring: `strategies-monitoring-${run}` };
  const prefix = `strat_${run}`;
  const N = 120;
  const seen: AnyEvent[] = [];
  let models: string;
  let holdout: { inputs: number[][]; labels: number[] };
  let registry: ServiceProcess;
  let serving: ServiceProcess;
  let monitoring: ServiceProcess;
  let registryUrl: string;
  let monitoringUrl: string;
  let client: InferenceClient;
  let observer: Subscription;
  let producer: EventBus;

  const of = <T extends AnyEvent['type']>(type: T, name = model) => seen.filter((e) => e.type === type && (e.data as { model?: string }).model === name) as unknown as EventEnvelope<T>[];
  const post = (path: string, body: unknown): Promise<{ status: number; body: any }> =>
    fetch(`${registryUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, body: await r.json() }));
  const upload = async (file: string, name = model): Promise<number> => {
    const reply = await fetch(`${registryUrl}/models/${name}/versions`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: readFileSync(join(models, file)) });
    expect(reply.status).toBe(201);
    return Number(((await reply.json()) as { model_version: { version: string } }).model_version.version);
  };
  const infer = (id: string, row: number, name = model) =>
    call<InferResponse>(client, 'ModelInfer', { model_name: name, id, inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 30], contents: { fp32_contents: holdout.inputs[row] } }] });
  const completed = (version: number, strategy: string, name = model) =>
    waitFor(() => of('deployment.completed', name).find((e) => e.data.version === version && e.data.strategy === strategy), `deployment.completed of ${name} v${version} (${strategy})`, 60_000);
  const status = (name = model): Promise<{ champion?: number; canary?: { version: number; predictions: number; agreement?: { compared: number; agreed: number } } }> =>
    fetch(`${monitoringUrl}/models/${name}/status`).then((r) => r.json() as never);
  const outputs = () => [serving, monitoring, registry].map((p) => `--- ${p.service}\n${p.tail(40)}`).join('\n');

  beforeAll(async () => {
    models = mkdtempSync(join(tmpdir(), 'strategies-it-'));
    execFileSync(interopPython(), [resolve(__dirname, '../fixtures/registry/make_gate_models.py'), models], { stdio: 'pipe' });
    holdout = JSON.parse(readFileSync(join(models, 'holdout.json'), 'utf8'));
    mkdirSync(join(models, 'artifacts'));

    const observed = ['deployment.requested', 'deployment.completed', 'prediction.logged', 'canary.evaluated', 'model.promoted', 'model.rolled_back'];
    const lifecycle = ['dataset.materialized', 'training.completed', 'model.registered', 'deployment.completed', 'model.promoted', 'model.rolled_back'];
    const observerGroup = `strategies-observer-${run}`;
    // Every group starts where the shared broker's history ends (other runs' events are not replayed).
    await startGroupsAtEnd(kafka, {
      [groups.registry]: ['training.completed'],
      [`${groups.registry}.canary`]: ['canary.evaluated', 'deployment.completed'],
      [groups.serving]: ['deployment.requested', 'model.promoted', 'model.rolled_back'],
      [groups.monitoring]: ['prediction.logged'],
      [`${groups.monitoring}.labels`]: ['label.observed'],
      [`${groups.monitoring}.lifecycle`]: lifecycle,
      [observerGroup]: observed,
    });
    observer = await observeKafka(kafka, { group: observerGroup, topics: observed }, (message) => {
      const event = JSON.parse(message.value.toString()) as AnyEvent;
      const name = (event.data as { model?: string }).model;
      if (name === model || name === abModel) seen.push(event);
    });
    producer = createEventBus({ BUS: 'kafka', KAFKA_BROKERS: kafka.brokers, KAFKA_SSL: false }, { service: 'strategies-it' });

    const [registryPort, grpcPort, monitoringPort] = [await freePort(), await freePort(), await freePort()];
    registryUrl = `http://127.0.0.1:${registryPort}`;
    monitoringUrl = `http://127.0.0.1:${monitoringPort}`;
    const bus = { BUS: 'kafka', KAFKA_BROKERS: infra.KAFKA_BROKERS };
    registry = new ServiceProcess('registry', {
      ...bus,
      DATABASE_URL: infra.DATABASE_URL,
      REGISTRY_PORT: String(registryPort),
      REGISTRY_GROUP: groups.registry,
      REGISTRY_ARTIFACT_ROOT: join(models, 'artifacts'),
      INSTANCE_ID: `strategies-${run}`,
    });
    serving = new ServiceProcess('serving', { ...bus, SERVING_GRPC_PORT: String(grpcPort), SERVING_GROUP: groups.serving, SERVING_BLUE_GREEN_KEEP_S: '600' });
    monitoring = new ServiceProcess('monitoring', {
      ...bus,
      DATABASE_URL: infra.DATABASE_URL,
      MONITORING_PORT: String(monitoringPort),
      MONITORING_GROUP: groups.monitoring,
      MONITORING_TABLE_PREFIX: prefix,
      MONITORING_CANARY_MIN_PREDICTIONS: String(N),
      MONITORING_CANARY_MIN_LABELS: '50',
      MONITORING_CANARY_LABEL_WAIT_S: '600',
      MONITORING_AB_LABELS: String(AB_LABELS),
      MONITORING_STATE_FLUSH_MS: '0',
    });
    for (const p of [registry, serving, monitoring]) p.start();
    await registry.waitUntilReady(`${registryUrl}/health/ready`);
    await monitoring.waitUntilReady(`${monitoringUrl}/health/ready`);
    client = inferenceClient(`127.0.0.1:${grpcPort}`);
    await waitFor(async () => (await call<{ live: boolean }>(client, 'ServerLive', {}).catch(() => ({ live: false }))).live || undefined, 'serving live', 60_000);
    // The deployment consumer gets its partitions after the server is up.
    await waitFor(() => serving.output.join('').includes('KServe v2 gRPC listening') || undefined, 'serving started', 60_000);
  }, 180_000);

  afterAll(async () => {
    client?.close();
    await observer?.stop();
    await producer?.close();
    for (const p of [serving, monitoring, registry]) await p?.stop();
    if (models) rmSync(models, { recursive: true, force: true });
    const db = new DataSource({ type: 'postgres', url: infra.DATABASE_URL });
    await db.initialize();
    for (const table of ['outbox', 'cooldowns', 'performance', 'canaries', 'champions', 'versions', 'runs', 'datasets', 'references', 'processed_events', 'migrations']) {
      await db.query(`DROP TABLE IF EXISTS "${prefix}_${table}"`);
    }
    await db.destroy();
  });

  let good: number;
  let shuffled: number;

  it('shadow: N answers through serving gRPC equal the champion alone request by request; the shadow is logged marked shadow; a worse shadow is dropped on labels', async () => {
    good = await upload('good.onnx');
    shuffled = await upload('shuffled.onnx');
    expect((await post(`/models/${model}/deploy`, { version: good, strategy: 'full' })).status).toBe(202);
    await completed(good, 'full').catch((error: Error) => Promise.reject(new Error(`${error.message}\n${outputs()}`)));
    // The first version serving is champion; monitoring learns it from model.promoted.
    await waitFor(() => of('model.promoted').find((e) => e.data.version === good), 'the first champion', 60_000);
    await waitFor(async () => ((await status()).champion === good ? true : undefined), 'monitoring knows the champion', 60_000);

    const before: unknown[] = [];
    for (let i = 0; i < N; i++) before.push(answerOf(await infer(`${run}-before-${i}`, i)));

    expect(await post(`/models/${model}/deploy`, { version: shuffled, strategy: 'shadow' })).toMatchObject({ status: 202, body: { strategy: 'shadow', share: 0 } });
    expect((await completed(shuffled, 'shadow')).data.trafficShare).toBe(0);
    await waitFor(async () => ((await status()).canary?.version === shuffled ? true : undefined), 'monitoring watches the shadow', 60_000);
    expect((await status()).canary).toMatchObject({ strategy: 'shadow', agreement: { compared: 0, agreed: 0 } });

    const after: unknown[] = [];
    for (let i = 0; i < N; i++) after.push(answerOf(await infer(`${run}-shadowed-${i}`, i)));
    expect(after).toEqual(before);

    const shadowLogged = await waitFor(() => {
      const found = of('prediction.logged').filter((e) => e.data.schemaVersion === 2 && e.data.shadow && e.data.requestKey?.startsWith(`${run}-shadowed-`));
      return found.length === N ? found : undefined;
    }, `${N} shadow prediction.logged`, 60_000);
    for (const event of shadowLogged) {
      if (event.data.schemaVersion !== 2) throw new Error('v2 expected');
      expect(event.data.version).toBe(shuffled);
      expect(event.data.predictionIds).toEqual([`${event.data.requestKey}:0`]);
    }
    const answered = of('prediction.logged').filter((e) => e.data.schemaVersion === 2 && !e.data.shadow && e.data.requestKey?.startsWith(`${run}-shadowed-`));
    expect(answered.map((e) => e.data.version)).toEqual(Array(N).fill(good));
    // The shadow really answered on its own: its predictions differ from the champion's on some requests.
    const labelOf = (e: EventEnvelope<'prediction.logged'>) => (e.data.schemaVersion === 2 ? new PredictionRows(decodePredictionTensors(e.data)).outputs(0).label : undefined);
    const championLabels = new Map(answered.map((e) => [e.data.schemaVersion === 2 ? e.data.requestKey : '', labelOf(e)]));
    expect(shadowLogged.filter((e) => e.data.schemaVersion === 2 && labelOf(e) !== championLabels.get(e.data.requestKey)).length).toBeGreaterThan(0);

    // Labels after the monitor has every shadow answer (they follow the champion's on the model's partition).
    await waitFor(async () => (((await status()).canary?.predictions ?? 0) >= N ? true : undefined), 'the monitor counted the shadow', 60_000);
    // Every shadow answer was compared with the champion's answer to the same request.
    expect((await status()).canary?.agreement?.compared).toBe(N);
    // The true labels of the holdout rows: the champion (trained on real labels) is right far more often.
    await producer.publish(
      Array.from({ length: N }, (_, i) => createEvent('label.observed', { source: 'labels', subject: model, data: { predictionId: `${run}-shadowed-${i}:0`, model, label: holdout.labels[i] } }) as AnyEvent),
    );
    const verdict = await waitFor(() => of('canary.evaluated').find((e) => e.data.version === shuffled), 'the shadow verdict', 60_000).catch((error: Error) =>
      Promise.reject(new Error(`${error.message}\n${outputs()}`)),
    );
    expect(verdict.data).toMatchObject({ verdict: 'rollback', strategy: 'shadow', championVersion: good, agreement: { compared: N } });
    expect(verdict.data.agreement!.share).toBeLessThan(1);
    expect(verdict.data.canaryValue!).toBeLessThan(verdict.data.championValue!);
    const dropped = await waitFor(() => of('model.rolled_back').find((e) => e.data.version === shuffled), 'model.rolled_back of the shadow', 60_000);
    expect(dropped.data).toMatchObject({ restoredVersion: good });
    await waitFor(() => (serving.output.join('').includes(`model '${model}' shadow version ${shuffled} rolled back`) ? true : undefined), 'serving dropped the shadow');
    expect(registry.output.join('')).toContain(`model '${model}' shadow version ${shuffled} dropped`);
    // The monitor logs its decision once the verdict is out (the outbox), so possibly after the drop.
    await waitFor(() => (monitoring.output.join('').includes(`shadow ${model} v${shuffled}: drop`) ? true : undefined), "the monitor's logged decision");
    // The champion answers as before, and no shadow copies any more.
    expect(answerOf(await infer(`${run}-after-drop`, 0))).toEqual(before[0]);
  });

  it('blue-green: a client loop has 0 failures across the switch, traffic then all goes to the new version, and rollback returns to the old one without a load', async () => {
    let running = true;
    let switched = false;
    let seq = 0;
    const failures: unknown[] = [];
    const afterSwitch: string[] = [];
    const loop = Array.from({ length: 4 }, async () => {
      while (running) {
        const sentAfter = switched;
        try {
          const { model_version } = await infer(`${run}-bg-${seq++}`, seq % N);
          if (sentAfter) afterSwitch.push(model_version);
        } catch (error) {
          failures.push(error);
        }
      }
    });
    expect(await post(`/models/${model}/deploy`, { version: shuffled, strategy: 'blue-green' })).toMatchObject({ status: 202, body: { strategy: 'blue-green', share: 1 } });
    const done = await completed(shuffled, 'blue-green');
    switched = true;
    await waitFor(() => (afterSwitch.length >= 200 ? true : undefined), 'traffic after the switch', 60_000);
    running = false;
    await Promise.all(loop);
    expect(failures).toEqual([]);
    expect(done.data.trafficShare).toBe(1);
    expect(new Set(afterSwitch)).toEqual(new Set([String(shuffled)]));
    expect(serving.output.join('')).toContain(`version ${good} kept warm 600 s for an instant rollback`);
    // The registry makes the switched-to version champion, so a rollback restores the old one.
    await waitFor(() => of('model.promoted').find((e) => e.data.version === shuffled), 'the blue-green version champion', 60_000);

    const requestedBefore = of('deployment.requested').length;
    expect(await post(`/models/${model}/rollback`, { reason: 'errors after the switch' })).toMatchObject({ status: 200, body: { rolled_back_version: shuffled, champion: good } });
    await waitFor(async () => ((await infer(`${run}-rolled-${seq++}`, 0)).model_version === String(good) ? true : undefined), 'answers from the old version again', 60_000);
    // Switched back to the warm standby: no deployment, no load.
    expect(serving.output.join('')).toContain(`blue-green standby version ${good} takes all traffic at once (kept warm, no load)`);
    expect(of('deployment.requested')).toHaveLength(requestedBefore);
    const versions = await call<{ versions: string[] }>(client, 'ModelMetadata', { name: model });
    await waitFor(async () => ((await call<{ versions: string[] }>(client, 'ModelMetadata', { name: model })).versions.join() === String(good) ? true : undefined), 'the rolled-back version unloaded');
    expect(versions.versions).toContain(String(good));
  });

  describe('A/B', () => {
    let worse: number;
    let better: number;
    const servingState = async () => ((await (await fetch(`${registryUrl}/models/${abModel}`)).json()) as { serving: unknown[] }).serving;
    const monitorWatches = (version: number, labelsNeeded: number) =>
      waitFor(async () => ((await status(abModel)).canary?.version === version ? true : undefined), `monitoring runs the A/B test of v${version}`, 60_000).then(async () =>
        expect((await status(abModel)).canary).toMatchObject({ strategy: 'ab', labelsNeeded }),
      );

    /**
     * Sends the holdout rows in turn through serving gRPC (no version named: the split routes
     * it), checks the share of the challenger's answers against the deployment's share, then,
     * once the monitor has counted the challenger's predictions, posts every row's true label
     * to the monitor's POST /labels under the prediction id serving logged.
     */
    async function splitThenLabel(round: string, challenger: number, champion: number, share: number): Promise<void> {
      const answered: string[] = [];
      for (let i = 0; i < AB_REQUESTS; i++) answered.push((await infer(`${run}-${round}-${i}`, i % holdout.labels.length, abModel)).model_version);
      expect(new Set(answered)).toEqual(new Set([String(challenger), String(champion)]));
      const toChallenger = answered.filter((v) => v === String(challenger)).length;
      // Binomial(n, share): 4 standard deviations either side (a correct split falls outside about once in 16,000 runs).
      const bound = 4 * Math.sqrt(AB_REQUESTS * share * (1 - share));
      expect(Math.abs(toChallenger - AB_REQUESTS * share), `${toChallenger} of ${AB_REQUESTS} answers from v${challenger} at share ${share}`).toBeLessThanOrEqual(bound);
      await waitFor(async () => ((await status(abModel)).canary?.predictions === toChallenger ? true : undefined), `the monitor counted ${toChallenger} A/B predictions`, 60_000);
      const labels = answered.map((_, i) => ({ predictionId: `${run}-${round}-${i}:0`, model: abModel, label: holdout.labels[i % holdout.labels.length] }));
      const reply = await fetch(`${monitoringUrl}/labels`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ labels }) });
      expect([reply.status, await reply.json()]).toEqual([202, { accepted: AB_REQUESTS }]);
    }

    const verdictOf = (version: number) =>
      waitFor(() => of('canary.evaluated', abModel).find((e) => e.data.version === version), `the A/B verdict on v${version}`, 60_000).catch((error: Error) =>
        Promise.reject(new Error(`${error.message}\n${outputs()}`)),
      );
    /** Waits until ten answers at once all come from `version` (serving applied the verdict). */
    const allFrom = (version: number, label: string) =>
      waitFor(
        async () => ((await Promise.all(Array.from({ length: 10 }, (_, i) => infer(`${run}-${label}-${randomUUID()}`, i, abModel)))).every((r) => r.model_version === String(version)) ? true : undefined),
        `every answer from v${version} (${label})`,
        60_000,
      );

    beforeAll(async () => {
      // The champion is the model trained on shuffled labels: a challenger trained on the real ones is clearly better.
      worse = await upload('shuffled.onnx', abModel);
      better = await upload('good.onnx', abModel);
      expect((await post(`/models/${abModel}/deploy`, { version: worse, strategy: 'full' })).status).toBe(202);
      await completed(worse, 'full', abModel);
      await waitFor(() => of('model.promoted', abModel).find((e) => e.data.version === worse), 'the first A/B champion', 60_000);
      await waitFor(async () => ((await status(abModel)).champion === worse ? true : undefined), 'monitoring knows the A/B champion', 60_000);
    }, 120_000);

    it('a clearly better challenger: the answers split at the share, and after MONITORING_AB_LABELS labels a side it is promoted with its p-value and confidence', async () => {
      const share = 0.5;
      expect(await post(`/models/${abModel}/deploy`, { version: better, strategy: 'ab', share })).toMatchObject({ status: 202, body: { strategy: 'ab', share } });
      expect((await completed(better, 'ab', abModel)).data.trafficShare).toBe(share);
      await monitorWatches(better, AB_LABELS);
      // The registry's serving state says how each version was deployed.
      await waitFor(async () => ((await servingState()).length === 2 ? true : undefined), 'the registry recorded the split', 60_000);
      expect(await servingState()).toEqual([
        { version: worse, share: 1 - share, strategy: 'full' },
        { version: better, share, strategy: 'ab' },
      ]);

      await splitThenLabel('ab-promote', better, worse, share);
      const verdict = await verdictOf(better);
      expect(verdict.data).toMatchObject({ verdict: 'promote', strategy: 'ab', championVersion: worse, metric: 'accuracy' });
      const { pValue, confidence, zScore, canaryValue, championValue, labels } = verdict.data;
      expect(pValue!).toBeLessThan(0.05);
      expect(confidence!).toBeCloseTo(1 - pValue!, 4);
      expect(zScore!).toBeGreaterThan(0);
      expect(canaryValue!).toBeGreaterThan(championValue!);
      expect(labels).toBeGreaterThanOrEqual(AB_LABELS);
      expect(verdict.data.reason).toContain(`p = ${pValue} (two-proportion z-test, alpha 0.05); different with ${Number((confidence! * 100).toFixed(4))}% confidence`);

      await waitFor(() => of('model.promoted', abModel).find((e) => e.data.version === better), 'model.promoted of the A/B challenger', 60_000);
      await allFrom(better, 'promoted');
      expect(registry.output.join('')).toContain(`model '${abModel}' ab version ${better} promoted to champion`);
      await waitFor(() => (monitoring.output.join('').includes(`A/B test ${abModel} v${better}: promote`) ? true : undefined), "the monitor's logged decision");
      await waitFor(async () => ((await servingState()).length === 1 ? true : undefined), 'the registry recorded the promotion', 60_000);
      expect(await servingState()).toEqual([{ version: better, share: 1, strategy: 'ab' }]);
    });

    it("a clearly worse challenger with the deployment's own label count: the answers split at the share, and it is rolled back; the champion answers alone again", async () => {
      await waitFor(async () => ((await status(abModel)).champion === better ? true : undefined), 'monitoring knows the promoted champion', 60_000);
      const worseAgain = await upload('shuffled.onnx', abModel);
      const share = 0.4;
      const labelsNeeded = 50;
      expect(await post(`/models/${abModel}/deploy`, { version: worseAgain, strategy: 'ab', share, labels: labelsNeeded })).toMatchObject({
        status: 202,
        body: { strategy: 'ab', share, labels: labelsNeeded },
      });
      expect((await completed(worseAgain, 'ab', abModel)).data).toMatchObject({ trafficShare: share, abLabels: labelsNeeded });
      await monitorWatches(worseAgain, labelsNeeded);

      await splitThenLabel('ab-rollback', worseAgain, better, share);
      const verdict = await verdictOf(worseAgain);
      expect(verdict.data).toMatchObject({ verdict: 'rollback', strategy: 'ab', championVersion: better, metric: 'accuracy' });
      expect(verdict.data.canaryValue!).toBeLessThan(verdict.data.championValue!);
      expect(verdict.data.zScore!).toBeLessThan(0);
      expect(verdict.data.labels).toBeGreaterThanOrEqual(labelsNeeded);
      expect(verdict.data.reason).toContain(`worse on ${verdict.data.labels} and`);
      expect(verdict.data.reason).toContain('the champion stays');

      const rolledBack = await waitFor(() => of('model.rolled_back', abModel).find((e) => e.data.version === worseAgain), 'model.rolled_back of the A/B challenger', 60_000);
      expect(rolledBack.data).toMatchObject({ restoredVersion: better });
      await allFrom(better, 'rolled-back');
      expect(registry.output.join('')).toContain(`model '${abModel}' ab version ${worseAgain} rolled back`);
      await waitFor(() => (monitoring.output.join('').includes(`A/B test ${abModel} v${worseAgain}: rollback`) ? true : undefined), "the monitor's logged decision");
    });
  });
});
