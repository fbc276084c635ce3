import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createEventBus, KafkaAdminKit, observeKafka, type EventBus, type KafkaKitOptions, type Subscription } from '@mlops/bus';
import { createEvent, type AnyEvent, type EventType, type PayloadInput } from '@mlops/contracts';
import { infraEnv } from '../../../test/infra/infra-env';
import { freePort, ServiceProcess } from '../../../test/support/service-process';
import { waitFor } from '../../../test/support/wait-for';
import type { LoopDetail } from './loop.service';
import { LOOP_EVENT_TYPES } from './loop.service';

/**
 * The loop controller as production runs it (its built entry point, its own process) on real
 * Kafka and Postgres: drift.detected in, retrain.requested out (read back from Kafka), the
 * loop's stages and outcome in Postgres, served over HTTP, kept across a restart.
 */
describe('loop controller on real Kafka and Postgres (own process, production entry point)', () => {
  const infra = infraEnv();
  const kafka: KafkaKitOptions = { clientId: 'loop-it', brokers: infra.KAFKA_BROKERS.split(','), logLevel: 'nothing' };
  const run = randomUUID().slice(0, 8);
  const model = `loop-it-${run}`;
  const other = `loop-it-gate-${run}`;
  const group = `loop-it-${randomUUID()}`;
  const retrains: AnyEvent[] = [];
  let service: ServiceProcess;
  let observer: Subscription;
  let producer: EventBus;
  let url: string;
  let env: Record<string, string>;

  const send = async (...events: AnyEvent[]) => {
    for (const e of events) await producer.publish(e);
  };
  const event = <T extends EventType>(type: T, correlationId: string, data: PayloadInput<T>) =>
    createEvent(type, { source: 'loop-it', subject: (data as { model: string }).model, correlationId, data } as never) as AnyEvent;
  const drift = (m: string, correlationId: string) =>
    event('drift.detected', correlationId, {
      model: m,
      version: 1,
      window: { start: new Date(Date.now() - 1000).toISOString(), end: new Date().toISOString(), size: 300 },
      datasetDrift: { share: 1, threshold: 0.5 },
      features: [{ feature: 'f0', statistic: 'ks', value: 0.4, threshold: 0.05, drifted: true }],
    });
  const registered = (m: string, cid: string, version: number) => [
    event('training.completed', cid, { jobId: 'j', model: m, runId: 'r', artifactUri: '/tmp/m.onnx', metrics: { accuracy: 0.9 } }),
    event('model.registered', cid, { model: m, version, artifactHash: 'c'.repeat(64) }),
  ];
  const get = async (path: string): Promise<{ status: number; body: Record<string, unknown> }> => {
    const r = await fetch(`${url}${path}`);
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  /**
   * The service's group starts at the end of a partition it has no committed offset for,
   * once it has its partitions: after each (re)start, probe with drift events for models it
   * has no feature view for (each probe opens a loop that fails at once) until one is recorded.
   */
  let probes = 0;
  const untilConsuming = () => {
    const sent: string[] = [];
    return waitFor(
      async () => {
        const probe = `probe-${run}-${++probes}`;
        sent.push(probe);
        await send(drift(probe, randomUUID()));
        await sleep(250);
        for (const p of sent) if (((await get(`/api/loops?model=${p}`)).body.loops as unknown[]).length > 0) return true;
        return false;
      },
      'the loop service to consume',
      90_000,
    );
  };
  const loopOf = async (cid: string) => (await get(`/api/loops/${cid}`)).body.loop as LoopDetail | undefined;

  beforeAll(async () => {
    const admin = new KafkaAdminKit(kafka);
    await admin.createTopics(LOOP_EVENT_TYPES).finally(() => admin.close());

    observer = await observeKafka(kafka, { group: `loop-it-observer-${randomUUID()}`, topics: ['retrain.requested'], fromBeginning: true }, (message) => {
      const e = JSON.parse(message.value.toString()) as AnyEvent;
      if (e.type === 'retrain.requested' && [model, other].includes(e.data.model)) retrains.push(e);
    });
    producer = createEventBus({ BUS: 'kafka', KAFKA_BROKERS: kafka.brokers, KAFKA_SSL: false }, { service: 'loop-it' });

    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    env = {
      BUS: 'kafka',
      KAFKA_BROKERS: infra.KAFKA_BROKERS,
      DATABASE_URL: infra.DATABASE_URL,
      LOOP_PORT: String(port),
      LOOP_GROUP: group,
      LOOP_FEATURE_VIEWS: `${model}:view_a,${other}:view_b`,
      LOOP_GATE_WAIT_S: '2',
      LOOP_SWEEP_INTERVAL_MS: '200',
      INSTANCE_ID: `loop-it-${run}`,
    };
    service = new ServiceProcess('loop', env);
    service.start();
    await service.waitUntilReady(`${url}/health/ready`);
    await untilConsuming();
  });
  afterAll(async () => {
    await service?.stop();
    await observer?.stop();
    await producer?.close();
  });

  it('two drift events for one model back to back: one loop, one retrain.requested on Kafka, the other drift debounced', async () => {
    await Promise.all([send(drift(model, `${run}-a`)), send(drift(model, `${run}-b`))]);
    const retrain = await waitFor(() => retrains.find((e) => e.type === 'retrain.requested' && e.data.model === model), 'retrain.requested on Kafka', 60_000);
    expect(retrain.type === 'retrain.requested' && retrain.data).toMatchObject({ model, featureView: 'view_a' });
    const opened = retrain.correlationId;
    const loop = await waitFor(async () => {
      const l = await loopOf(opened);
      return l && l.stages.filter((s) => s.type === 'drift.detected').length === 2 ? l : undefined;
    }, 'both drift events recorded in the loop', 30_000);
    expect(loop.stages.filter((s) => s.type === 'drift.detected' && s.ignored)).toHaveLength(1);
    const list = (await get(`/api/loops?model=${model}`)).body.loops as unknown[];
    expect(list).toHaveLength(1);
    expect(retrains.filter((e) => e.type === 'retrain.requested' && e.data.model === model)).toHaveLength(1);
  });

  it('follows the loop to model.promoted and keeps it across a restart', async () => {
    const cid = retrains.find((e) => e.type === 'retrain.requested' && e.data.model === model)!.correlationId;
    await send(
      ...registered(model, cid, 2),
      event('deployment.requested', cid, { model, version: 2, artifactUri: '/tmp/m.onnx', strategy: 'canary', canaryShare: 0.1 }),
      event('deployment.completed', cid, { model, version: 2, status: 'serving', trafficShare: 0.1 }),
      event('canary.evaluated', cid, { model, version: 2, championVersion: 1, verdict: 'promote', reason: 'ok', predictions: 100, labels: 50 }),
      event('model.promoted', cid, { model, version: 2, alias: 'champion', previousVersion: 1 }),
    );
    // Each topic (and partition) is consumed on its own: stages may land in any order.
    const loop = await waitFor(async () => {
      const l = await loopOf(cid);
      return l?.status === 'closed' && l.stages.length === 9 ? l : undefined;
    }, 'the loop to close with all 9 stages (2 drift, retrain and 6 sent)', 30_000);
    expect(loop).toMatchObject({ outcome: 'promoted', candidateVersion: 2 });
    expect(loop.stages.filter((s) => !s.ignored).map((s) => s.type)).toEqual(
      expect.arrayContaining(['retrain.requested', 'model.registered', 'deployment.requested', 'canary.evaluated', 'model.promoted']),
    );

    await service.stop();
    service = new ServiceProcess('loop', env);
    service.start();
    await service.waitUntilReady(`${url}/health/ready`);
    expect(await loopOf(cid)).toEqual(loop);
    await untilConsuming();
    expect(((await get(`/api/loops?model=${model}&status=closed`)).body.loops as { outcome: string }[]).map((l) => l.outcome)).toEqual(['promoted']);
  });

  it('a registration with no deployment.requested ends rejected_by_gate after the gate wait', async () => {
    const cid = `${run}-gate`;
    await send(drift(other, cid));
    await waitFor(() => retrains.find((e) => e.correlationId === cid), 'retrain.requested for the second model', 60_000);
    await send(...registered(other, cid, 5));
    const loop = await waitFor(async () => {
      const l = await loopOf(cid);
      return l?.status === 'closed' ? l : undefined;
    }, 'the gate wait to end the loop', 30_000);
    expect(loop).toMatchObject({ outcome: 'rejected_by_gate', candidateVersion: 5 });
    expect(loop.outcomeReason).toMatch(/no deployment.requested \d+s after version 5 was registered/);
  });
});
