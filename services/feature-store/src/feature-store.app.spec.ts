import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { tableFromIPC } from 'apache-arrow';
import { EventBus, InProcessTransport, type Subscription } from '@mlops/bus';
import { ConfigError } from '@mlops/config';
import { createEvent, decodeEvent, type EventEnvelope } from '@mlops/contracts';
import { waitFor } from '../../../test/support/wait-for';
import { startFeatureStore, type FeatureStoreApp } from './feature-store.app';
import { loadFeatureStoreConfig } from './feature-store.config';
import { findProtoDir, loadFeatureStoreService } from './grpc/grpc-server';

const VIEWS = `
featureViews:
  - name: user_clicks
    source: clicks
    entityKey: user
    timestampField: ts
    features:
      - { name: last_amount, field: amount, type: number }
      - { name: last_page, field: page, type: string }
    aggregations:
      - { name: clicks_1h, function: count, window: 1h }
      - { name: amount_sum_24h, function: sum, field: amount, window: 24h }
`;

const H = 3_600_000;
const T0 = Date.parse('2026-02-01T00:00:00Z');
const iso = (hours: number) => new Date(T0 + hours * H).toISOString();

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Client = grpc.Client & Record<string, any>;
const call = <T = any>(client: Client, request: unknown): Promise<T> => // eslint-disable-line @typescript-eslint/no-explicit-any
  new Promise((done, fail) => client.GetOnlineFeatures(request, (e: grpc.ServiceError | null, r: T) => (e ? fail(e) : done(r))));
const callError = (client: Client, request: unknown) =>
  call(client, request).then(
    () => Promise.reject(new Error('expected an error')),
    (e: grpc.ServiceError) => e,
  );

describe('feature store (embedded: in-process bus, SQLite, in-memory online store)', () => {
  let dir: string;
  let transport: InProcessTransport;
  let store: FeatureStoreApp;
  let producer: EventBus;
  let client: Client;
  let subscriptions: Subscription[] = [];
  const materialized: EventEnvelope<'dataset.materialized'>[] = [];
  const dead: { error: string; value: string }[] = [];

  const validated = (record: Record<string, string | number | null>, source = 'clicks', id = randomUUID()) =>
    createEvent('data.validated', {
      id,
      source: 'ingestion',
      subject: String(record.user ?? source),
      data: { source, recordId: id, contractVersion: 1, record },
    });

  const http = (path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
    fetch(`${store.url}${path}`, {
      method: init.method ?? 'GET',
      headers: { 'content-type': 'application/json', ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

  const duplicate = validated({ user: 'u1', ts: iso(0), amount: 10, page: '/home' });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'feature-store-'));
    writeFileSync(join(dir, 'views.yaml'), VIEWS);
    transport = new InProcessTransport();
    store = await startFeatureStore(
      loadFeatureStoreConfig({
        DATABASE_URL: 'sqlite::memory:',
        FEATURE_STORE_HTTP_PORT: '0',
        FEATURE_STORE_GRPC_PORT: '0',
        FEATURE_VIEWS_FILE: join(dir, 'views.yaml'),
        FEATURE_STORE_ARTIFACT_ROOT: join(dir, 'datasets'),
      }),
      { inProcess: transport, logger: false },
    );
    producer = new EventBus(transport);
    subscriptions = [
      await producer.subscribe({
        group: 'observer',
        topics: ['dataset.materialized'],
        handle: async (m) => {
          const event = decodeEvent(m.value);
          if (event.type === 'dataset.materialized') materialized.push(event);
        },
      }),
      await producer.subscribe({
        group: 'dlq-observer',
        topics: ['data.validated.dlq'],
        handle: async (m) => void dead.push({ error: m.headers['dlq-error'], value: m.value.toString() }),
      }),
    ];
    const Service = grpc.makeGenericClientConstructor(loadFeatureStoreService(findProtoDir()), 'FeatureStoreService');
    client = new Service(store.grpcAddress, grpc.credentials.createInsecure()) as Client;

    await producer.publish([
      duplicate,
      validated({ user: 'u1', ts: iso(0.5), amount: 5, page: '/cart' }),
      validated({ user: 'u2', ts: iso(1), amount: 7, page: null }),
      validated({ user: 'u1', ts: iso(2), amount: 1, page: '/pay' }),
      duplicate, // redelivered: applied once
    ]);
    await waitFor(() => store.service.stats.applied === 4 && store.service.stats.duplicates === 1, 'the clicks to be applied');
  });
  afterAll(async () => {
    client?.close();
    await Promise.all(subscriptions.map((s) => s.stop()));
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the latest values of many entities over gRPC, NOT_FOUND per missing entity', async () => {
    const response = await call(client, { feature_view: 'user_clicks', entity_keys: ['u1', 'ghost', 'u2'] });
    expect(response.feature_names).toEqual(['last_amount', 'last_page', 'clicks_1h', 'amount_sum_24h']);
    expect(response.results.map((r: { entity_key: string; status: string }) => [r.entity_key, r.status])).toEqual([
      ['u1', 'PRESENT'],
      ['ghost', 'NOT_FOUND'],
      ['u2', 'PRESENT'],
    ]);
    const [u1, , u2] = response.results;
    expect(u1.event_time).toBe(iso(2));
    expect(u1.values).toEqual({
      last_amount: { number_value: 1, kind: 'number_value' },
      last_page: { string_value: '/pay', kind: 'string_value' },
      clicks_1h: { number_value: 1, kind: 'number_value' }, // the 0h and 0.5h clicks are > 1h before 2h
      amount_sum_24h: { number_value: 16, kind: 'number_value' }, // 10 + 5 + 1, the duplicate once
    });
    expect(u2.values.last_page).toEqual({ null_value: true, kind: 'null_value' });
    const some = await call(client, { feature_view: 'user_clicks', entity_keys: ['u1'], features: ['clicks_1h'] });
    expect(Object.keys(some.results[0].values)).toEqual(['clicks_1h']);
  });

  it('fails an unknown view with NOT_FOUND and a bad request with INVALID_ARGUMENT naming the field', async () => {
    const unknown = await callError(client, { feature_view: 'nope', entity_keys: ['u1'] });
    expect(unknown.code).toBe(grpc.status.NOT_FOUND);
    expect(unknown.details).toContain('nope');
    const noView = await callError(client, { entity_keys: ['u1'] });
    expect([noView.code, noView.details.split(':')[0]]).toEqual([grpc.status.INVALID_ARGUMENT, 'feature_view']);
    const noKeys = await callError(client, { feature_view: 'user_clicks', entity_keys: [] });
    expect([noKeys.code, noKeys.details.split(':')[0]]).toEqual([grpc.status.INVALID_ARGUMENT, 'entity_keys']);
    const badFeature = await callError(client, { feature_view: 'user_clicks', entity_keys: ['u1'], features: ['zzz'] });
    expect([badFeature.code, badFeature.details.split(':')[0]]).toEqual([grpc.status.INVALID_ARGUMENT, 'features']);
    const tooMany = await callError(client, { feature_view: 'user_clicks', entity_keys: Array.from({ length: 1001 }, (_, i) => `k${i}`) });
    expect(tooMany.code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it('takes a late event into history, recomputes the later rows it falls into and the online aggregations', async () => {
    const online = async () => (await call(client, { feature_view: 'user_clicks', entity_keys: ['u2'] })).results[0];
    expect((await online()).values).toMatchObject({ clicks_1h: { number_value: 1 }, amount_sum_24h: { number_value: 7 } });
    const before = { ...store.service.stats };
    const late = validated({ user: 'u2', ts: iso(0.9), amount: 99, page: '/late' });
    await producer.publish(late);
    await waitFor(() => store.service.stats.lateEvents === 1, 'the late event');
    // Its own row (0.9h) is not the online value; one later row (1h) was recomputed.
    expect(store.service.stats).toMatchObject({ lateOnline: before.lateOnline + 1, recomputedRows: 1 });
    // Online: still the row of the latest event (1h, amount 7), its windows now hold the 0.9h event.
    const after = await online();
    expect(after.event_time).toBe(iso(1));
    expect(after.values).toMatchObject({ last_amount: { number_value: 7 }, clicks_1h: { number_value: 2 }, amount_sum_24h: { number_value: 106 } });
    // History has the late row at its own time, and the 1h row rewritten.
    const historical = await http('/features/historical', {
      method: 'POST',
      body: { featureView: 'user_clicks', entities: [{ entityKey: 'u2', timestamp: iso(0.95) }, { entityKey: 'u2', timestamp: iso(1) }] },
    });
    expect(historical.body.rows.map((r: { values: { last_amount: number; amount_sum_24h: number } }) => [r.values.last_amount, r.values.amount_sum_24h])).toEqual([
      [99, 99],
      [7, 106],
    ]);
  });

  it('answers point-in-time requests over HTTP without leaking later values', async () => {
    const response = await http('/features/historical', {
      method: 'POST',
      body: {
        featureView: 'user_clicks',
        entities: [
          { entityKey: 'u1', timestamp: iso(0.25) }, // later u1 rows (5 at 0.5h, 1 at 2h) must not show
          { entityKey: 'u1', timestamp: iso(1.99) },
          { entityKey: 'u1', timestamp: T0 - 1 },
        ],
      },
    });
    expect(response.status).toBe(200);
    expect(response.body.rows.map((r: { values: { last_amount: number } | null }) => r.values?.last_amount ?? null)).toEqual([10, 5, null]);
    expect(response.body.rows[1].eventTimestamp).toBe(iso(0.5));
  });

  it('materializes the same dataset twice with the same hash, and writes the Arrow file and manifest', async () => {
    const request = {
      featureView: 'user_clicks',
      entities: [
        { entityKey: 'u2', timestamp: iso(3) },
        { entityKey: 'u1', timestamp: iso(0.25) },
        { entityKey: 'u1', timestamp: iso(3) },
        { entityKey: 'ghost', timestamp: iso(3) },
      ],
    };
    const first = await http('/datasets', { method: 'POST', body: request, headers: { 'x-correlation-id': 'loop-7' } });
    expect(first.status).toBe(201);
    const second = await http('/datasets', { method: 'POST', body: { ...request, entities: [...request.entities].reverse() } });
    expect(second.body.hash).toBe(first.body.hash);
    expect(second.body).toMatchObject({ version: first.body.version, changed: false });
    expect(first.body).toMatchObject({ datasetId: `user_clicks-v${first.body.version}`, rowCount: 4, changed: true });

    const bytes = readFileSync(first.body.uri);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(first.body.hash);
    const table = tableFromIPC(bytes);
    expect(table.toArray().map((r) => r.toJSON())).toEqual([
      { user: 'ghost', event_timestamp: T0 + 3 * H, last_amount: null, last_page: null, clicks_1h: null, amount_sum_24h: null },
      { user: 'u1', event_timestamp: T0 + 0.25 * H, last_amount: 10, last_page: '/home', clicks_1h: 1, amount_sum_24h: 10 },
      { user: 'u1', event_timestamp: T0 + 3 * H, last_amount: 1, last_page: '/pay', clicks_1h: 1, amount_sum_24h: 16 },
      { user: 'u2', event_timestamp: T0 + 3 * H, last_amount: 7, last_page: null, clicks_1h: 2, amount_sum_24h: 106 },
    ]);
    const manifest = JSON.parse(readFileSync(first.body.manifestUri, 'utf8'));
    expect(manifest).toMatchObject({ hash: first.body.hash, rowCount: 4, format: 'arrow-ipc-file', timeRange: { from: iso(0.25), to: iso(3) } });
    expect(manifest.schema).toEqual([
      { name: 'user', type: 'string' },
      { name: 'event_timestamp', type: 'timestamp' },
      { name: 'last_amount', type: 'number' },
      { name: 'last_page', type: 'string' },
      { name: 'clicks_1h', type: 'integer' },
      { name: 'amount_sum_24h', type: 'number' },
    ]);
    expect(manifest.columns.last_amount).toEqual({ type: 'number', nulls: 1, distinct: 3, min: 1, max: 10 });
    expect(manifest.columns.last_page).toEqual({ type: 'string', nulls: 2, distinct: 2, min: '/home', max: '/pay' });
    expect(manifest.columns.user).toEqual({ type: 'string', nulls: 0, distinct: 3, min: 'ghost', max: 'u2' });
    expect(manifest.columns.event_timestamp).toMatchObject({ nulls: 0, distinct: 2, min: iso(0.25), max: iso(3) });

    await waitFor(() => materialized.some((e) => e.correlationId === 'loop-7'), 'dataset.materialized');
    const event = materialized.find((e) => e.correlationId === 'loop-7')!;
    expect(event.data).toMatchObject({ hash: first.body.hash, featureView: 'user_clicks', rowCount: 4, uri: first.body.uri });
  });

  it('materializes the full history on retrain.requested, carrying the correlation id and the training params', async () => {
    const retrain = createEvent('retrain.requested', {
      source: 'monitoring',
      subject: 'churn',
      correlationId: 'drift-loop-1',
      data: { model: 'churn', featureView: 'user_clicks', reason: 'drift', params: { algorithm: 'mlp', epochs: 150 } },
    });
    await producer.publish(retrain);
    const event = await waitFor(() => materialized.find((e) => e.correlationId === 'drift-loop-1'), 'dataset.materialized for the retrain');
    expect(event.data).toMatchObject({ featureView: 'user_clicks', model: 'churn', rowCount: 5, params: { algorithm: 'mlp', epochs: 150 } });
    // One feature row per applied event: what `mlops ingest` waits on before a dataset.
    expect((await http('/feature-views/user_clicks/rows')).body).toEqual({ name: 'user_clicks', version: 1, rows: 5 });
    expect((await http('/feature-views/nope/rows')).status).toBe(404);
    expect(event.data.timeRange).toEqual({ from: iso(0), to: iso(2) });
    const manifest = (await http(`/datasets/user_clicks/${event.data.version}`)).body.manifest;
    expect(manifest).toMatchObject({ hash: event.data.hash, request: { mode: 'history' } });
    // Same data, same request: the same snapshot
    const again = await http('/datasets', { method: 'POST', body: { featureView: 'user_clicks' } });
    expect(again.body).toMatchObject({ hash: event.data.hash, version: event.data.version, changed: false });
  });

  it('POST /datasets names the model in dataset.materialized only with "train": true', async () => {
    const trained = await http('/datasets', { method: 'POST', body: { featureView: 'user_clicks', model: 'churn', train: true }, headers: { 'x-correlation-id': 'train-1' } });
    expect([trained.status, trained.body.model]).toEqual([201, 'churn']);
    const plain = await http('/datasets', { method: 'POST', body: { featureView: 'user_clicks' }, headers: { 'x-correlation-id': 'plain-1' } });
    expect(plain.status).toBe(201);
    const [withModel, withoutModel] = await waitFor(() => {
      const found = ['train-1', 'plain-1'].map((id) => materialized.find((e) => e.correlationId === id));
      return found.every(Boolean) ? found : undefined;
    }, 'both dataset.materialized events');
    expect([withModel!.data.model, withoutModel!.data.model]).toEqual(['churn', undefined]);
    const noModel = await http('/datasets', { method: 'POST', body: { featureView: 'user_clicks', train: true } });
    expect([noModel.status, noModel.body.issues.map((i: { field: string }) => i.field)]).toEqual([400, ['model']]);
    const notAsked = await http('/datasets', { method: 'POST', body: { featureView: 'user_clicks', model: 'churn' } });
    expect([notAsked.status, notAsked.body.issues.map((i: { field: string }) => i.field)]).toEqual([400, ['train']]);
  });

  it('ignores sources no view uses; counts, logs and dead-letters records missing the entity key or timestamp', async () => {
    const before = { ...store.service.stats, rejected: { ...store.service.stats.rejected } };
    await producer.publish([
      validated({ user: 'u9', ts: iso(1), amount: 1 }, 'other-source'),
      validated({ ts: iso(1), amount: 1 }),
      validated({ user: 'u9', amount: 1 }),
    ]);
    await waitFor(() => dead.length === 2, 'two dead letters');
    expect(store.service.stats.ignored).toBe(before.ignored + 1);
    expect(store.service.stats.rejected.user_clicks).toBe(before.rejected.user_clicks + 2);
    expect(dead.map((d) => d.error)).toEqual([expect.stringContaining('entity key "user"'), expect.stringContaining('timestamp "ts"')]);
    expect((await http('/stats')).body.rejected.user_clicks).toBe(before.rejected.user_clicks + 2);
    const online = await call(client, { feature_view: 'user_clicks', entity_keys: ['u9'] });
    expect(online.results[0].status).toBe('NOT_FOUND');
  });

  it('dead-letters a record whose field has the wrong type for the view, naming the field and the expected type', async () => {
    const before = dead.length;
    await producer.publish([validated({ user: 'u8', ts: iso(1), amount: 'lots', page: '/x' })]);
    await waitFor(() => dead.length === before + 1, 'the dead letter');
    expect(dead[before].error).toContain('field "amount" of feature last_amount is string, expected a number or null');
    expect((await call(client, { feature_view: 'user_clicks', entity_keys: ['u8'] })).results[0].status).toBe('NOT_FOUND');
  });

  it('exposes Prometheus metrics: ingested, rejected, online reads and latency, materializations, freshness lag', async () => {
    const response = await fetch(`${store.url}/metrics`);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('mlops_feature_store_events_ingested_total{view="user_clicks",late="false"}')).toBe(store.service.stats.applied - store.service.stats.lateEvents);
    expect(value('mlops_feature_store_events_ingested_total{view="user_clicks",late="true"}')).toBe(store.service.stats.lateEvents);
    expect(value('mlops_feature_store_events_rejected_total{view="user_clicks",field="amount"}')).toBe(1);
    expect(value('mlops_feature_store_rows_recomputed_total{view="user_clicks"}')).toBe(store.service.stats.recomputedRows);
    expect(value('mlops_feature_store_online_requests_total{code="OK"}')).toBeGreaterThan(0);
    expect(value('mlops_feature_store_online_requests_total{code="NOT_FOUND"}')).toBeGreaterThan(0);
    expect(value('mlops_feature_store_online_request_seconds_count{code="OK"}')).toBe(value('mlops_feature_store_online_requests_total{code="OK"}'));
    expect(value('mlops_feature_store_online_entities_total{status="not_found"}')).toBeGreaterThan(0);
    expect(value('mlops_feature_store_materializations_total{view="user_clicks",changed="false"}')).toBeGreaterThan(0);
    // The events are from 2026-02-01: every online write saw a lag of more than a day.
    const writes = value('mlops_feature_store_freshness_lag_seconds_count{view="user_clicks"}');
    expect(writes).toBeGreaterThan(0);
    expect(value('mlops_feature_store_freshness_lag_seconds_bucket{le="3600",view="user_clicks"}')).toBe(0);
  });

  it('answers bad HTTP requests with {error_code, message} naming the field', async () => {
    const unknown = await http('/datasets', { method: 'POST', body: { featureView: 'nope' } });
    expect(unknown).toMatchObject({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST' } });
    const bad = await http('/datasets', { method: 'POST', body: { featureView: 'user_clicks', entities: [{ entityKey: 'u1', timestamp: 'soon' }] } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
    expect(bad.body.issues[0].field).toBe('entities.0.timestamp');
    expect((await http('/datasets/user_clicks/999')).status).toBe(404);
    expect((await http('/health/ready')).body).toMatchObject({ status: 'ok', onlineStore: 'memory' });
  });
});

describe('feature store config', () => {
  it('starts with an empty environment (embedded defaults)', () => {
    expect(loadFeatureStoreConfig({})).toMatchObject({
      BUS: 'in-process',
      ONLINE_STORE: 'memory',
      FEATURE_STORE_HTTP_PORT: 3002,
      FEATURE_STORE_GRPC_PORT: 8002,
      FEATURE_STORE_HTTP_HOST: '127.0.0.1',
      FEATURE_STORE_GRPC_HOST: '127.0.0.1',
      FEATURE_STORE_ARTIFACT_ROOT: '.mlops/datasets',
      DATABASE_URL: 'sqlite:.mlops/feature-store.db',
      FEATURE_STORE_ROLE: 'all',
    });
  });

  it('takes FEATURE_STORE_ROLE=serve only with a shared (Redis) online store', () => {
    const redis = { ONLINE_STORE: 'redis', REDIS_URL: 'redis://h:6379' };
    expect(loadFeatureStoreConfig({ ...redis, FEATURE_STORE_ROLE: 'serve' })).toMatchObject({ FEATURE_STORE_ROLE: 'serve' });
    const problems = (env: NodeJS.ProcessEnv) => {
      try {
        loadFeatureStoreConfig(env);
      } catch (e) {
        return (e as ConfigError).problems;
      }
      throw new Error('expected a ConfigError');
    };
    expect(problems({ FEATURE_STORE_ROLE: 'serve' })).toEqual([
      expect.objectContaining({ variable: 'FEATURE_STORE_ROLE', message: expect.stringContaining('ONLINE_STORE=redis') }),
    ]);
    expect(problems({ ...redis, FEATURE_STORE_ROLE: 'reader' })).toEqual([
      expect.objectContaining({ variable: 'FEATURE_STORE_ROLE', message: expect.stringContaining('expected all or serve') }),
    ]);
  });

  it('requires REDIS_URL only for ONLINE_STORE=redis, and names each bad variable', () => {
    expect(loadFeatureStoreConfig({ ONLINE_STORE: 'redis', REDIS_URL: 'redis://h:6379' })).toMatchObject({ REDIS_URL: 'redis://h:6379' });
    let error: unknown;
    try {
      loadFeatureStoreConfig({ ONLINE_STORE: 'redis', FEATURE_STORE_GRPC_PORT: 'x', DATABASE_URL: 'mysql://x' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable).sort()).toEqual(['DATABASE_URL', 'FEATURE_STORE_GRPC_PORT', 'REDIS_URL']);
  });
});
