import type { DataSource } from 'typeorm';
import { applyOnce, openDataSource } from '@mlops/persistence';
import { parseFeatureViews } from '../views/feature-view';
import { aggregate, extractViewEvent } from '../views/feature-row';
import { CreateFeatureStore1763900000200 } from '../migrations/1763900000200-create-feature-store';
import { DatasetEntity, FeatureRowEntity } from './feature-row.entity';
import { FeatureRowRepository } from './feature-row.repository';
import { OfflineStore } from './offline-store';
import { rng } from '../../../../test/support/random';

const [view] = parseFeatureViews(`
featureViews:
  - name: accounts
    source: tx
    entityKey: account
    timestampField: ts
    features: [{ name: balance, type: number }, { name: tier, type: string }]
    aggregations:
      - { name: tx_1h, function: count, window: 1h }
      - { name: spent_24h, function: sum, field: amount, window: 24h }
      - { name: avg_1h, function: mean, field: amount, window: 1h }
`);

/** An offline store over `dataSource` with the default window cache size. */
const offlineStore = (dataSource: DataSource) => new OfflineStore(new FeatureRowRepository(dataSource), { offline: { windowCacheEntities: 100_000 } });

const H = 3_600_000;
const T0 = Date.parse('2026-03-01T00:00:00Z');
const at = (hours: number) => T0 + hours * H;

describe('offline store (SQLite): history and point-in-time retrieval', () => {
  let dataSource: DataSource;
  let store: OfflineStore;

  const apply = async (id: string, record: Record<string, unknown>) => {
    const extraction = extractViewEvent(view, record);
    if (!extraction.ok) throw new Error(extraction.reason);
    return applyOnce(dataSource, 'feature_store', 'test', id, (m) => store.append(m, view, id, extraction.event));
  };

  beforeAll(async () => {
    dataSource = await openDataSource({
      service: 'feature_store',
      url: 'sqlite::memory:',
      entities: [FeatureRowEntity, DatasetEntity],
      migrations: [CreateFeatureStore1763900000200],
    });
    store = offlineStore(dataSource);
    // a: balance 100 at t0, 200 at t0+2h (the later value a leaky join would return), 300 at t0+30h
    await apply('a1', { account: 'a', ts: at(0), balance: 100, tier: 'bronze', amount: 10 });
    await apply('a2', { account: 'a', ts: at(2), balance: 200, tier: 'silver', amount: 20 });
    await apply('a3', { account: 'a', ts: at(30), balance: 300, tier: 'gold', amount: 30 });
    // b arrives only later
    await apply('b1', { account: 'b', ts: at(5), balance: 5, tier: 'x', amount: 1 });
  });
  afterAll(() => dataSource.destroy());

  it('returns, per entity row, the values as of its timestamp and never a later value (no leakage)', async () => {
    const rows = await store.asOf('accounts', [
      { entityKey: 'a', timestampMs: at(1) }, // between a1 and a2: must be 100, not 200
      { entityKey: 'a', timestampMs: at(2) - 1 }, // 1 ms before a2: still 100
      { entityKey: 'a', timestampMs: at(2) }, // exactly at a2: 200 (event time <= timestamp)
      { entityKey: 'a', timestampMs: at(29) }, // before a3: 200, not 300
      { entityKey: 'a', timestampMs: at(100) },
      { entityKey: 'a', timestampMs: at(-1) }, // before any row: nothing
      { entityKey: 'b', timestampMs: at(4) }, // b has no row yet although a later one exists
      { entityKey: 'b', timestampMs: at(6) },
      { entityKey: 'nobody', timestampMs: at(6) },
    ]);
    expect(rows.map((r) => r?.values.balance ?? null)).toEqual([100, 100, 200, 200, 300, null, null, 5, null]);
    expect(rows.map((r) => r?.values.tier ?? null)).toEqual(['bronze', 'bronze', 'silver', 'silver', 'gold', null, null, 'x', null]);
    for (const [i, ts] of [at(1), at(2) - 1, at(2), at(29), at(100)].entries()) expect(rows[i]!.eventTimeMs).toBeLessThanOrEqual(ts);
  });

  it('computes windowed aggregations per entity, incrementally, as of each row', async () => {
    const history = await store.history('accounts');
    expect(history.map((r) => [r.entityKey, r.eventId, r.values.tx_1h, r.values.spent_24h, r.values.avg_1h])).toEqual([
      ['a', 'a1', 1, 10, 10],
      ['a', 'a2', 1, 30, 20], // a1 is 2h old: out of 1h, in 24h
      ['a', 'a3', 1, 30, 30], // a1, a2 are > 24h old
      ['b', 'b1', 1, 1, 1],
    ]);
  });

  it('applies a redelivered event once', async () => {
    const again = await apply('a2', { account: 'a', ts: at(2), balance: 200, tier: 'silver', amount: 20 });
    expect(again.applied).toBe(false);
    expect((await store.history('accounts')).filter((r) => r.eventId === 'a2')).toHaveLength(1);
  });

  it('accepts a late (out-of-order) event into history and recomputes the later rows its time falls into', async () => {
    await apply('c2', { account: 'c', ts: at(10), balance: 2, tier: 't', amount: 2 });
    await apply('c3', { account: 'c', ts: at(40), balance: 3, tier: 't', amount: 3 });
    const late = await apply('c1', { account: 'c', ts: at(9.5), balance: 1, tier: 't', amount: 1 });
    expect(late).toMatchObject({ applied: true, result: { late: true } });
    // c2 (10h) now counts c1 (9.5h) in both windows; c3 (40h) is > 24h after c1: unchanged.
    expect(late.applied && late.result.rewritten.map((r) => r.eventId)).toEqual(['c2']);
    const history = (await store.history('accounts')).filter((r) => r.entityKey === 'c');
    expect(history.map((r) => [r.eventId, r.values.balance, r.values.tx_1h, r.values.spent_24h, r.values.avg_1h])).toEqual([
      ['c1', 1, 1, 1, 1], // as of 9.5h: c2 (10h) is later and not counted
      ['c2', 2, 2, 3, 1.5], // rewritten: its own features kept, aggregations include c1
      ['c3', 3, 1, 3, 3],
    ]);
    const asOf = await store.asOf('accounts', [{ entityKey: 'c', timestampMs: at(9.75) }, { entityKey: 'c', timestampMs: at(11) }]);
    expect(asOf.map((r) => r?.values.spent_24h)).toEqual([1, 3]);
    // The next in-order event after the late one sees it (the window state was rebuilt).
    const next = await apply('c4', { account: 'c', ts: at(40.5), balance: 4, tier: 't', amount: 4 });
    expect(next.applied && next.result.row.values).toMatchObject({ tx_1h: 2, spent_24h: 7, avg_1h: 3.5 });
  });

  it('restricts history to a time range', async () => {
    const rows = await store.history('accounts', { fromMs: at(2), toMs: at(5) });
    expect(rows.map((r) => r.eventId)).toEqual(['a2', 'b1']);
  });
});

describe('offline store: incremental and late events against the naive recompute', () => {
  const M = 60_000;
  async function open() {
    return openDataSource({ service: 'feature_store', url: 'sqlite::memory:', entities: [FeatureRowEntity, DatasetEntity], migrations: [CreateFeatureStore1763900000200] });
  }

  /** Every stored row's values equal the naive recompute over all the entity's events (to 1e-9). */
  async function expectNaive(store: OfflineStore, records: { account: string; ts: number; amount: number | null; balance: number }[]) {
    const history = await store.history('accounts');
    expect(history).toHaveLength(records.length);
    for (const row of history) {
      const events = records.filter((r) => r.account === row.entityKey).map((r) => ({ eventTimeMs: r.ts, inputs: { amount: r.amount } }));
      const want = aggregate(view, events, row.eventTimeMs);
      for (const [name, value] of Object.entries(want)) {
        const got = row.values[name];
        if (typeof value === 'number' && typeof got === 'number') {
          expect(Math.abs(got - value), `${row.eventId} ${name}: ${got} vs ${value}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(value)));
        } else {
          expect(got, `${row.eventId} ${name}`).toBe(value);
        }
      }
    }
  }

  it('matches the naive recompute on a random stream with 20% late events, across a restart', async () => {
    const dataSource = await open();
    try {
      const next = rng(42);
      let clock = at(0);
      const records = Array.from({ length: 400 }, (_, i) => {
        clock += Math.floor(next() * 20 * M);
        // One in five events is late: up to 26h before the current time (past the 24h window too).
        const ts = next() < 0.2 ? clock - Math.floor(next() * 26 * 60) * M : clock;
        return { id: `e${i}`, account: `acc${Math.floor(next() * 4)}`, ts, amount: next() < 0.1 ? null : Math.round(next() * 1e6) / 100, balance: i };
      });
      const applyAll = async (store: OfflineStore, batch: typeof records) => {
        for (const r of batch) {
          const extraction = extractViewEvent(view, r);
          if (!extraction.ok) throw new Error(extraction.reason);
          await applyOnce(dataSource, 'feature_store', 'test', r.id, (m) => store.append(m, view, r.id, extraction.event));
        }
      };
      await applyAll(offlineStore(dataSource), records.slice(0, 250));
      // A new store (a restarted process): empty window states, rebuilt from the history.
      const restarted = offlineStore(dataSource);
      await applyAll(restarted, records.slice(250));
      expect(restarted.windows.rebuilds).toBeGreaterThan(0);
      await expectNaive(restarted, records);
    } finally {
      await dataSource.destroy();
    }
  });
});
