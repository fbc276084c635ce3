import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KafkaAdminKit, KafkaRawProducer, startGroupsAtEnd, type KafkaKitOptions } from '@mlops/bus';
import { Traffic } from '../../platform/embedded/src/traffic';
import { call, inferenceClient, makeTestModels, type TestModels } from '../../services/serving/test/models';
import { infraEnv } from '../infra/infra-env';
import { FeatureStoreProcess, produceValidated, writeAmountView } from '../support/feature-store-process';
import { interopPython } from '../support/python';
import { freePort, ServiceProcess } from '../support/service-process';
import { waitFor } from '../support/wait-for';

/** The services' Kafka session timeout (libs/bus KafkaTransport's default). */
const SESSION_TIMEOUT_MS = 10_000;

interface GroupSample {
  at: number;
  state: string;
  members: number;
}

/**
 * A slow consumer, on loopback: one of two feature-store instances of one consumer group is
 * frozen (SIGSTOP) mid-stream past the Kafka session timeout, so the broker evicts it and the
 * group rebalances its partitions to the other instance; then it is thawed (SIGCONT) and finds
 * itself evicted: whatever it held when frozen is stale, and it must rejoin. Events keep flowing
 * throughout, and a gRPC client keeps calling serving. Needs no test-only code in the services.
 */
describe('slow consumer: a feature store frozen past its session timeout, then resumed', () => {
  const infra = infraEnv();
  const kafka: KafkaKitOptions = { clientId: 'slow-consumer', brokers: infra.KAFKA_BROKERS.split(','), logLevel: 'nothing', retry: { retries: 20, initialRetryTime: 200, maxRetryTime: 2_000 } };
  const run = `slow_${Date.now().toString(36)}`;
  const report: string[] = [];
  let dir: string;
  let models: TestModels | undefined;
  let admin: KafkaAdminKit;
  let serving: ServiceProcess | undefined;
  let traffic: Traffic | undefined;
  const stores: FeatureStoreProcess[] = [];
  let passed = false;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'slow-consumer-'));
    models = makeTestModels(interopPython());
    admin = new KafkaAdminKit(kafka);
    await startGroupsAtEnd(kafka, {
      [`${run}-feature-store`]: ['data.validated'],
      [`${run}-feature-store.retrain`]: ['retrain.requested'],
      [`${run}-serving`]: ['deployment.requested', 'model.promoted', 'model.rolled_back'],
    });
  }, 120_000);

  afterAll(async () => {
    await traffic?.stop().catch(() => undefined);
    traffic?.close();
    for (const store of stores) {
      // A store left frozen by a failed assertion would ignore SIGTERM.
      await Promise.resolve()
        .then(() => store.signal('SIGCONT'))
        .catch(() => undefined);
      await store.stop();
    }
    await serving?.stop();
    await admin?.close().catch(() => undefined);
    if (!passed) for (const store of stores) console.log(`\n----- feature store ${store.instanceId} output -----\n${store.output().slice(-20_000)}`);
    console.log(`\nslow consumer report\n${report.map((l) => `  ${l}`).join('\n')}\n`);
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (models) rmSync(models.dir, { recursive: true, force: true });
  });

  it('the group rebalances and catches up, every event is applied exactly once, serving answers throughout', async () => {
    const source = run;
    const group = `${run}-feature-store`;
    writeAmountView(dir, source);
    const [active, frozen] = [0, 1].map((i) => new FeatureStoreProcess(dir, source, { group, instanceId: `${run}-fs-${i}` }));
    stores.push(active, frozen);
    // One after the other: two instances racing the same schema migration is not the fault under test.
    await active.start();
    await frozen.start();

    const model = `slow-${randomUUID().slice(0, 8)}`;
    const [grpcPort, metricsPort] = await Promise.all([freePort(), freePort()]);
    serving = new ServiceProcess('serving', {
      BUS: 'kafka',
      KAFKA_BROKERS: infra.KAFKA_BROKERS,
      SERVING_GRPC_PORT: String(grpcPort),
      SERVING_METRICS_PORT: String(metricsPort),
      SERVING_MODELS: `${model}=${models!.logregV1}`,
      SERVING_LOG_SAMPLE_RATE: '0',
      SERVING_GROUP: `${run}-serving`,
      INSTANCE_ID: `${run}-serving-0`,
    });
    serving.start();
    await serving.waitUntilReady(`http://127.0.0.1:${metricsPort}/health/live`, 90_000);
    const probe = inferenceClient(`127.0.0.1:${grpcPort}`);
    await waitFor(async () => (await call<{ ready: boolean }>(probe, 'ModelReady', { name: model })).ready, `serving to load ${model}`, 60_000);
    probe.close();
    const rows = models!.expected.logreg_v1.rows;
    traffic = new Traffic(`127.0.0.1:${grpcPort}`, model, (n) => ({ inputs: rows.slice(0, n), labels: [] }), { rowsPerRequest: 4, concurrency: 2, pauseMs: 20 });
    traffic.start();

    // Membership as the group coordinator reports it, sampled until the end of the test.
    const samples: GroupSample[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [described] = await admin.describeGroups([group]).catch(() => []);
        if (described) samples.push({ at: Date.now(), state: described.state, members: described.members });
        await sleep(250);
      }
    })();
    const stableWith = (members: number) => async () => {
      const [described] = await admin.describeGroups([group]);
      return described.state === 'Stable' && described.members === members;
    };
    await waitFor(stableWith(2), 'both instances in the group', 60_000);

    const producer = await KafkaRawProducer.connect(kafka, { idempotent: true });
    const freeze = { at: 0, sentAtFreeze: 0, rebalancedAfterMs: 0, frozenMs: 0, sentAtThaw: 0 };
    let sent = 0;
    let thawed: Promise<void> | undefined;
    const acknowledged = await produceValidated(producer, source, 6_000, 100, 300, async (count) => {
      sent = count;
      if (count !== 1_000) return;
      frozen.signal('SIGSTOP');
      freeze.at = Date.now();
      freeze.sentAtFreeze = count;
      // Frozen until the coordinator has evicted it and the other instance holds every
      // partition, and 2 s more of events for that instance alone; then thawed mid-stream.
      thawed = (async () => {
        await waitFor(stableWith(1), 'the group to rebalance to the one live instance', SESSION_TIMEOUT_MS + 30_000);
        freeze.rebalancedAfterMs = Date.now() - freeze.at;
        await sleep(2_000);
        frozen.signal('SIGCONT');
        freeze.frozenMs = Date.now() - freeze.at;
        freeze.sentAtThaw = sent;
      })();
      // Awaited once the events are sent; a failure before then is not an unhandled rejection.
      thawed.catch(() => undefined);
    });
    await thawed;
    await producer.close();
    const ends = await admin.topicEndOffsets('data.validated');

    await waitFor(stableWith(2), 'the thawed instance back in the group', 60_000).catch(() => undefined);
    const caughtUp = await waitFor(
      async () => {
        const committed = await admin.committedOffsets(group, 'data.validated');
        return ends.every((end) => Number(committed.find((p) => p.partition === end.partition)?.offset ?? -1) >= Number(end.offset));
      },
      'the group to commit past the last event produced',
      90_000,
    ).catch(() => false);
    const history = await waitFor(async () => ((await active.rows()) === acknowledged ? acknowledged : undefined), `${acknowledged} history rows`, 60_000).catch(() => active.rows());
    sampling = false;
    await sampler;
    await traffic.stop();

    const transitions = samples.filter((s, i) => i === 0 || s.state !== samples[i - 1].state || s.members !== samples[i - 1].members);
    const timeline = transitions.map((s) => `${((s.at - freeze.at) / 1000).toFixed(1)}s ${s.state}/${s.members}`).join(', ');
    // The freeze waited for this before thawing: the live instance held every partition alone.
    const rebalancedWhileFrozen = freeze.rebalancedAfterMs > 0;
    const finalMembers = samples.at(-1)?.members;
    const { requests, failed, lastError } = traffic.stats;
    report.push(
      `injected: SIGSTOP of feature store ${frozen.instanceId} (one of 2 in group ${group}) after ${freeze.sentAtFreeze} of ${acknowledged} events; the group was Stable with 1 member ${freeze.rebalancedAfterMs} ms later (session timeout ${SESSION_TIMEOUT_MS} ms); SIGCONT after ${freeze.frozenMs} ms, at ${freeze.sentAtThaw} events sent`,
    );
    report.push(`group state/members, seconds from the freeze: ${timeline}`);
    report.push(`checked: group committed past every partition's last event: ${caughtUp ? 'yes' : 'no'}; ${finalMembers} members at the end (expected 2)`);
    report.push(`checked: ${history} history rows in view ${source} (expected ${acknowledged}, one per accepted event)`);
    report.push(`checked: serving gRPC ${requests} ModelInfer calls, ${failed} failed (expected 0)${lastError ? `, last error: ${lastError}` : ''}`);

    expect({ rebalancedWhileFrozen, finalMembers, caughtUp, history, failed }).toEqual({ rebalancedWhileFrozen: true, finalMembers: 2, caughtUp: true, history: acknowledged, failed: 0 });
    expect(requests).toBeGreaterThan(0);
    passed = true;
  }, 170_000);
});
