import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus, InProcessTransport } from '@mlops/bus';
import { createEvent } from '@mlops/contracts';
import { infraEnv } from '../../../../test/infra/infra-env';
import { waitFor } from '../../../../test/support/wait-for';
import { startFeatureStore, type FeatureStoreApp } from '../feature-store.app';
import { loadFeatureStoreConfig } from '../feature-store.config';

describe('run-time feature views on Postgres (versioned table, backfill, restart)', () => {
  const infra = infraEnv();
  const run = `it${Date.now()}`;
  const source = `clicks_${run}`;
  const seeded = `clicks_${run}`;
  const added = `pages_${run}`;
  let dir: string;
  let transport: InProcessTransport;
  let producer: EventBus;
  let store: FeatureStoreApp | undefined;

  const start = async () => {
    store = await startFeatureStore(
      loadFeatureStoreConfig({
        DATABASE_URL: infra.DATABASE_URL,
        FEATURE_STORE_HTTP_PORT: '0',
        FEATURE_STORE_GRPC_PORT: '0',
        FEATURE_VIEWS_FILE: join(dir, 'views.yaml'),
        FEATURE_STORE_ARTIFACT_ROOT: join(dir, 'datasets'),
      }),
      { inProcess: transport, logger: false },
    );
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
    return createEvent('data.validated', { id, source: 'ingestion', subject: String(record.user), data: { source, recordId: id, contractVersion: 1, record } });
  };
  const T0 = Date.parse('2026-02-01T00:00:00Z');
  const iso = (hours: number) => new Date(T0 + hours * 3_600_000).toISOString();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'feature-views-it-'));
    writeFileSync(
      join(dir, 'views.yaml'),
      `featureViews:\n  - { name: ${seeded}, source: ${source}, entityKey: user, timestampField: ts, features: [{ name: last_amount, field: amount, type: number }] }\n`,
    );
    transport = new InProcessTransport();
    producer = new EventBus(transport);
    await start();
    await producer.publish([validated({ user: 'u1', ts: iso(0), page: '/a', amount: 1 }), validated({ user: 'u1', ts: iso(1), page: '/b', amount: 2 })]);
    await waitFor(() => store!.service.stats.applied === 2, 'the clicks to be applied');
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores versions, backfills from the kept records and serves the latest version after a restart', async () => {
    const v1 = { source, entityKey: 'user', timestampField: 'ts', features: [{ name: 'page', type: 'string' }] };
    expect((await http(`/feature-views/${added}`, { method: 'PUT', body: v1 })).body).toEqual({ name: added, version: 1, changed: true, backfilled: 2 });
    expect((await http(`/feature-views/${added}`, { method: 'PUT', body: v1 })).body).toMatchObject({ version: 1, changed: false });
    const v2 = { ...v1, aggregations: [{ name: 'clicks_24h', function: 'count', window: '24h' }] };
    expect((await http(`/feature-views/${added}`, { method: 'PUT', body: v2 })).body).toEqual({ name: added, version: 2, changed: true, backfilled: 2 });

    await store!.close();
    store = undefined;
    await start();
    const views = (await http('/feature-views')).body.featureViews.filter((v: { name: string }) => v.name.endsWith(run));
    expect(views.map((v: { name: string; version: number }) => [v.name, v.version]).sort()).toEqual([
      [seeded, 1],
      [added, 2],
    ].sort());
    const rows = await http('/features/historical', { method: 'POST', body: { featureView: added, entities: [{ entityKey: 'u1', timestamp: iso(2) }] } });
    expect(rows.body.rows[0].values).toEqual({ page: '/b', clicks_24h: 2 });
  });
});
