import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createEventBus, KafkaAdminKit, observeKafka, startGroupsAtEnd, type KafkaKitOptions, type Subscription } from '@mlops/bus';
import { createEvent } from '@mlops/contracts';
import { infraEnv } from '../../../test/infra/infra-env';
import { freePort, ServiceProcess } from '../../../test/support/service-process';
import { waitFor } from '../../../test/support/wait-for';
import { findProtoDir, loadFeatureStoreService } from './grpc/grpc-server';
import { RedisOnlineStore } from './online/redis-online-store';

describe('feature store on real Kafka, Postgres and Redis (own process, production entry point)', () => {
  const infra = infraEnv();
  const kafka: KafkaKitOptions = { clientId: 'feature-store-it', brokers: infra.KAFKA_BROKERS.split(','), logLevel: 'warn' };
  const publisher = () => createEventBus({ BUS: 'kafka', KAFKA_BROKERS: kafka.brokers, KAFKA_SSL: false }, { service: 'feature-store-it' });
  const run = `it${Date.now()}`;
  const source = `clicks_${run}`;
  const view = `clicks_${run}`;
  const prefix = `fs-it-${run}`;
  let dir: string;
  let service: ServiceProcess;
  let url: string;
  let grpcAddress: string;
  let consumer: Subscription;
  const materialized: { correlationId: string; data: { hash: string; rowCount: number; featureView: string } }[] = [];

  /** One instance's environment: the shared Kafka, Postgres and Redis (one key prefix), the test's views. */
  const instanceEnv = (httpPort: number, grpcPort: number, extra: Record<string, string>): Record<string, string> => ({
    BUS: 'kafka',
    KAFKA_BROKERS: infra.KAFKA_BROKERS,
    DATABASE_URL: infra.DATABASE_URL,
    ONLINE_STORE: 'redis',
    REDIS_URL: infra.REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    FEATURE_VIEWS_FILE: join(dir, 'views.yaml'),
    FEATURE_STORE_ARTIFACT_ROOT: join(dir, 'datasets'),
    FEATURE_STORE_HTTP_PORT: String(httpPort),
    FEATURE_STORE_GRPC_PORT: String(grpcPort),
    INSTANCE_ID: `it-${randomUUID()}`,
    ...extra,
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'feature-store-it-'));
    writeFileSync(
      join(dir, 'views.yaml'),
      `featureViews:
  - name: ${view}
    source: ${source}
    entityKey: user
    timestampField: ts
    features: [{ name: last_amount, field: amount, type: number }]
    aggregations: [{ name: amount_sum_24h, function: sum, field: amount, window: 24h }]
`,
    );
    const admin = new KafkaAdminKit(kafka);
    await admin.createTopics(['data.validated', 'retrain.requested', 'dataset.materialized']).finally(() => admin.close());
    consumer = await observeKafka(kafka, { group: `observer-${randomUUID()}`, topics: ['dataset.materialized'] }, (message) => {
      const event = JSON.parse(message.value.toString());
      if (event.data.featureView === view) materialized.push(event);
    });

    // The service's groups start at the end of the shared broker's topics: replaying the
    // data.validated history other specs left (thousands of rows in CI) outlasted this spec's waits.
    const group = `feature-store-${run}`;
    await startGroupsAtEnd(kafka, { [group]: ['data.validated'], [`${group}.retrain`]: ['retrain.requested'] });
    const [httpPort, grpcPort] = [await freePort(), await freePort()];
    url = `http://127.0.0.1:${httpPort}`;
    grpcAddress = `127.0.0.1:${grpcPort}`;
    service = new ServiceProcess('feature-store', instanceEnv(httpPort, grpcPort, { FEATURE_STORE_GROUP: group }));
    service.start();
    await service.waitUntilReady(`${url}/health/ready`);
  });
  afterAll(async () => {
    await consumer?.stop();
    await service?.stop();
    const redis = await new RedisOnlineStore(infra.REDIS_URL, prefix).connect();
    await redis.clear();
    await redis.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies data.validated from Kafka to Redis (gRPC) and Postgres, and materializes on retrain.requested', async () => {
    const producer = publisher();
    const t0 = Date.parse('2026-04-01T00:00:00Z');
    const events = [
      { user: 'a', ts: t0, amount: 1 },
      { user: 'a', ts: t0 + 60_000, amount: 2 },
      { user: 'b', ts: t0, amount: 5 },
    ].map((record, i) =>
      createEvent('data.validated', { source: 'ingestion', subject: record.user, data: { source, recordId: `r${i}`, contractVersion: 1, record } }),
    );
    // The first event twice: a redelivery is applied once.
    await producer.publish([...events, events[0]]);

    const Service = grpc.makeGenericClientConstructor(loadFeatureStoreService(findProtoDir()), 'FeatureStoreService');
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const client = new Service(grpcAddress, grpc.credentials.createInsecure()) as grpc.Client & Record<string, any>;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const get = (keys: string[]): Promise<any> =>
      new Promise((done, fail) => client.GetOnlineFeatures({ feature_view: view, entity_keys: keys }, (e: Error | null, r: unknown) => (e ? fail(e) : done(r))));
    try {
      const response = await waitFor(async () => {
        const r = await get(['a', 'b', 'nobody']);
        return r.results[0].values.amount_sum_24h?.number_value === 3 && r.results[1].status === 'PRESENT' ? r : undefined;
      }, 'online features in Redis', 60_000);
      expect(response.results.map((r: { status: string }) => r.status)).toEqual(['PRESENT', 'PRESENT', 'NOT_FOUND']);
      expect(response.results[0].values.last_amount.number_value).toBe(2);

      // A late event for a (between its two events): history takes it, a's newer row and the
      // online aggregation are recomputed, the online row stays the newest event's.
      const late = createEvent('data.validated', { source: 'ingestion', subject: 'a', data: { source, recordId: 'late', contractVersion: 1, record: { user: 'a', ts: t0 + 30_000, amount: 10 } } });
      await producer.publish(late);
      const after = await waitFor(async () => {
        const r = await get(['a']);
        return r.results[0].values.amount_sum_24h?.number_value === 13 ? r : undefined;
      }, 'the late event in the online aggregation', 60_000);
      expect(after.results[0].values.last_amount.number_value).toBe(2);
      const historical = await fetch(`${url}/features/historical`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ featureView: view, entities: [{ entityKey: 'a', timestamp: t0 + 45_000 }, { entityKey: 'a', timestamp: t0 + 60_000 }] }),
      });
      const { rows } = (await historical.json()) as { rows: { values: { amount_sum_24h: number } }[] };
      expect(rows.map((r) => r.values.amount_sum_24h)).toEqual([11, 13]);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`^mlops_feature_store_events_ingested_total\\{view="${view}",late="true"\\} 1$`, 'm'));
    } finally {
      client.close();
    }

    const retrain = createEvent('retrain.requested', {
      source: 'monitoring',
      subject: 'churn',
      correlationId: `loop-${run}`,
      data: { model: 'churn', featureView: view, reason: 'drift' },
    });
    await producer.publish(retrain);
    await producer.close();
    const event = await waitFor(() => materialized.find((e) => e.correlationId === `loop-${run}`), 'dataset.materialized', 60_000);
    expect(event.data.rowCount).toBe(4);
    const again = await fetch(`${url}/datasets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ featureView: view }) });
    expect(await again.json()).toMatchObject({ hash: event.data.hash, changed: false });
  });

  it('a FEATURE_STORE_ROLE=serve instance serves what the consuming instance writes, and joins no consumer group', async () => {
    const [httpPort, grpcPort] = [await freePort(), await freePort()];
    const serveGroup = `feature-store-serve-${run}`;
    const reader = new ServiceProcess(
      'feature-store',
      instanceEnv(httpPort, grpcPort, { FEATURE_STORE_GROUP: serveGroup, FEATURE_STORE_ROLE: 'serve', FEATURE_STORE_ARTIFACT_ROOT: join(dir, 'datasets-serve') }),
    );
    reader.start();
    const Service = grpc.makeGenericClientConstructor(loadFeatureStoreService(findProtoDir()), 'FeatureStoreService');
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const client = new Service(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, any>;
    const producer = publisher();
    try {
      await reader.waitUntilReady(`http://127.0.0.1:${httpPort}/health/ready`);
      const record = { user: 'served', ts: Date.parse('2026-04-02T00:00:00Z'), amount: 7 };
      const event = createEvent('data.validated', { source: 'ingestion', subject: 'served', data: { source, recordId: 'served-1', contractVersion: 1, record } });
      await producer.publish(event);
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const response = await waitFor(async (): Promise<any> => {
        const r = await new Promise<{ results: { status: string; values: Record<string, { number_value?: number }> }[] }>((done, fail) =>
          client.GetOnlineFeatures({ feature_view: view, entity_keys: ['served'] }, (e: Error | null, out: never) => (e ? fail(e) : done(out))),
        );
        return r.results[0].status === 'PRESENT' ? r : undefined;
      }, 'the consuming instance\'s value, read through the serve instance', 60_000);
      expect(response.results[0].values.last_amount.number_value).toBe(7);
      const admin = new KafkaAdminKit(kafka);
      try {
        const groups = await admin.listGroups();
        expect(groups).toContain(`feature-store-${run}`);
        expect(groups.filter((g) => g.startsWith(serveGroup))).toEqual([]);
      } finally {
        await admin.close();
      }
    } finally {
      client.close();
      await producer.close();
      await reader.stop();
    }
  });
});
