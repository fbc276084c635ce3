import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { EventBus, InProcessTransport } from '@mlops/bus';
import { createEvent } from '@mlops/contracts';
import { waitFor } from '../../../../test/support/wait-for';
import { startFeatureStore, type FeatureStoreApp } from '../feature-store.app';
import { loadFeatureStoreConfig } from '../feature-store.config';
import { findProtoDir, loadFeatureStoreService } from '../grpc/grpc-server';

const VIEWS = `
featureViews:
  - name: user_clicks
    source: clicks
    entityKey: user
    timestampField: ts
    features:
      - { name: last_amount, field: amount, type: number }
`;

const H = 3_600_000;
const T0 = Date.parse('2026-02-01T00:00:00Z');
const iso = (hours: number) => new Date(T0 + hours * H).toISOString();

const PAGES = {
  source: 'clicks',
  entityKey: 'user',
  timestampField: 'ts',
  features: [{ name: 'last_page', field: 'page', type: 'string' }],
  aggregations: [{ name: 'clicks_24h', function: 'count', window: '24h' }],
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Client = grpc.Client & Record<string, any>;

describe('run-time feature views (PUT /feature-views/:name, versioned, backfilled, kept over a restart)', () => {
  let dir: string;
  let transport: InProcessTransport;
  let store: FeatureStoreApp | undefined;
  let producer: EventBus;

  const start = async () => {
    store = await startFeatureStore(
      loadFeatureStoreConfig({
        DATABASE_URL: `sqlite:${join(dir, 'store.db')}`,
        FEATURE_STORE_HTTP_PORT: '0',
        FEATURE_STORE_GRPC_PORT: '0',
        FEATURE_VIEWS_FILE: join(dir, 'views.yaml'),
        FEATURE_STORE_ARTIFACT_ROOT: join(dir, 'datasets'),
      }),
      { inProcess: transport, logger: false },
    );
    return store;
  };
  const http = (path: string, init: { method?: string; body?: unknown } = {}) =>
    fetch(`${store!.url}${path}`, {
      method: init.method ?? 'GET',
      headers: { 'content-type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
  const validated = (record: Record<string, string | number>) => {
    const id = randomUUID();
    return createEvent('data.validated', { id, source: 'ingestion', subject: String(record.user), data: { source: 'clicks', recordId: id, contractVersion: 1, record } });
  };
  const online = (view: string, keys: string[]) => {
    const Service = grpc.makeGenericClientConstructor(loadFeatureStoreService(findProtoDir()), 'FeatureStoreService');
    const client = new Service(store!.grpcAddress, grpc.credentials.createInsecure()) as Client;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return new Promise<any>((done, fail) => client.GetOnlineFeatures({ feature_view: view, entity_keys: keys }, (e: Error | null, r: unknown) => (e ? fail(e) : done(r)))).finally(() => client.close());
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'feature-views-'));
    writeFileSync(join(dir, 'views.yaml'), VIEWS);
    transport = new InProcessTransport();
    producer = new EventBus(transport);
    await start();
    await producer.publish([
      validated({ user: 'u1', ts: iso(0), amount: 10, page: '/home' }),
      validated({ user: 'u1', ts: iso(1), amount: 5, page: '/cart' }),
      validated({ user: 'u2', ts: iso(2), amount: 7, page: '/pay' }),
    ]);
    await waitFor(() => store!.service.stats.applied === 3, 'the clicks to be applied');
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the YAML views as version 1', async () => {
    const list = await http('/feature-views');
    expect(list.body.featureViews.map((v: { name: string; version: number }) => [v.name, v.version])).toEqual([['user_clicks', 1]]);
  });

  it('defines a new view, backfilled from the records its source already sent, served over HTTP and gRPC', async () => {
    const put = await http('/feature-views/user_pages', { method: 'PUT', body: PAGES });
    expect([put.status, put.body]).toEqual([200, { name: 'user_pages', version: 1, changed: true, backfilled: 3 }]);
    expect((await http('/feature-views/user_pages')).body).toMatchObject({ name: 'user_pages', version: 1, featureNames: ['last_page', 'clicks_24h'] });
    const historical = await http('/features/historical', { method: 'POST', body: { featureView: 'user_pages', entities: [{ entityKey: 'u1', timestamp: iso(1.5) }] } });
    expect(historical.body.rows[0].values).toEqual({ last_page: '/cart', clicks_24h: 2 });
    const response = await online('user_pages', ['u1', 'u2']);
    expect(response.results.map((r: { values: { last_page: { string_value: string } } }) => r.values.last_page.string_value)).toEqual(['/cart', '/pay']);
  });

  it('applies new events of the source to the run-time view', async () => {
    const before = store!.service.stats.applied;
    await producer.publish(validated({ user: 'u2', ts: iso(3), amount: 1, page: '/done' }));
    await waitFor(() => store!.service.stats.applied === before + 2, 'the click applied to both views');
    const response = await online('user_pages', ['u2']);
    expect(response.results[0].values).toMatchObject({ last_page: { string_value: '/done' }, clicks_24h: { number_value: 2 } });
  });

  it('treats an identical definition as a no-op and a changed one as version 2, rebuilt from the kept records', async () => {
    const same = await http('/feature-views/user_pages', { method: 'PUT', body: PAGES });
    expect([same.status, same.body]).toEqual([200, { name: 'user_pages', version: 1, changed: false, backfilled: 0 }]);
    const changed = { ...PAGES, aggregations: [{ name: 'clicks_1h', function: 'count', window: '1h' }] };
    const put = await http('/feature-views/user_pages', { method: 'PUT', body: changed });
    expect(put.body).toEqual({ name: 'user_pages', version: 2, changed: true, backfilled: 4 });
    const historical = await http('/features/historical', { method: 'POST', body: { featureView: 'user_pages', entities: [{ entityKey: 'u1', timestamp: iso(1.5) }] } });
    expect(historical.body.rows[0].values).toEqual({ last_page: '/cart', clicks_1h: 1 });
  });

  it('rejects a bad definition naming the field, and changes nothing', async () => {
    const bad = await http('/feature-views/user_pages', { method: 'PUT', body: { ...PAGES, aggregations: [{ name: 'x', function: 'sum', window: '1h' }] } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('aggregations.0.field');
    const otherSource = await http('/feature-views/user_pages', { method: 'PUT', body: { ...PAGES, source: 'orders' } });
    expect([otherSource.status, otherSource.body.message]).toEqual([400, expect.stringContaining('source')]);
    const wrongName = await http('/feature-views/user_pages', { method: 'PUT', body: { ...PAGES, name: 'other' } });
    expect([wrongName.status, wrongName.body.message]).toEqual([400, expect.stringContaining('name')]);
    expect((await http('/feature-views/user_pages')).body.version).toBe(2);
  });

  it('answers an unknown view with 404 listing the defined views', async () => {
    const missing = await http('/feature-views/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.message).toContain('user_clicks, user_pages');
  });

  it('keeps run-time views over a restart, the YAML file seeding only views not stored yet', async () => {
    await store!.close();
    store = undefined;
    await start();
    const list = await http('/feature-views');
    expect(list.body.featureViews.map((v: { name: string; version: number }) => [v.name, v.version])).toEqual([
      ['user_clicks', 1],
      ['user_pages', 2],
    ]);
    const dataset = await http('/datasets', { method: 'POST', body: { featureView: 'user_pages' } });
    expect([dataset.status, dataset.body.rowCount]).toEqual([201, 4]);
  });
});
