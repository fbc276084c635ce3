import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { openMonitoringDatabase, type MonitoringDatabase } from './monitoring-database';
import { MonitoringRepository } from './monitoring.repository';

const TABLES = ['drift_windows', 'outbox', 'cooldowns', 'performance', 'canaries', 'champions', 'versions', 'runs', 'datasets', 'references', 'processed_events', 'migrations'];

/**
 * MonitoringRepository.onceEach, the batch form of "apply an event once", on every database the
 * monitor runs on (SQLite in the unit tier, Postgres in the integration tier).
 */
export function onceEachContract(name: string, makeUrl: () => string, { concurrentInstances = true } = {}) {
  describe(`monitoring store, a batch of events applied once: ${name}`, () => {
    const prefix = `mstore_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    const databases: MonitoringDatabase[] = [];
    const open = async () => {
      const database = await openMonitoringDatabase(makeUrl(), prefix);
      databases.push(database);
      return new MonitoringRepository(database);
    };
    afterAll(async () => {
      await Promise.all(databases.map((d) => d.dataSource.destroy()));
      const db = new DataSource(makeUrl().startsWith('postgres') ? { type: 'postgres', url: makeUrl() } : { type: 'better-sqlite3', database: makeUrl().slice('sqlite:'.length) });
      await db.initialize();
      for (const table of TABLES) await db.query(`DROP TABLE IF EXISTS "${prefix}_${table}"`);
      await db.destroy();
    });

    /** Applies a batch: one performance row per batch, counting the ids it was told are new. */
    const applyBatch = (store: MonitoringRepository, model: string, ids: string[]) =>
      store.onceEach('labels', ids, async (tx, fresh) => {
        const rows = await tx.manager.query(`SELECT state FROM "${prefix}_performance" WHERE model = '${model}'`);
        const count = (rows[0] ? Number(JSON.parse(rows[0].state).count) : 0) + fresh.size;
        await tx.savePerformance({ model, version: 1, state: JSON.stringify({ count }) });
        return [...fresh].sort();
      });

    const countOf = async (store: MonitoringRepository, model: string) =>
      Number(JSON.parse((await store.load()).performance.find((p) => p.model === model)!.state).count);

    it('hands over only the ids not applied before, and marks them with the effect', async () => {
      const store = await open();
      const ids = Array.from({ length: 700 }, (_, i) => `e-${String(i).padStart(3, '0')}`);
      expect(await applyBatch(store, 'once', ids.slice(0, 400))).toEqual(ids.slice(0, 400));
      // a redelivered batch overlapping the first, with a duplicate inside it
      expect(await applyBatch(store, 'once', [...ids.slice(300, 700), ids[650]])).toEqual(ids.slice(400, 700));
      expect(await applyBatch(store, 'once', ids)).toEqual([]);
      expect(await countOf(store, 'once')).toBe(700);
    });

    it('keeps nothing of a batch whose transaction fails, so its redelivery applies it', async () => {
      const store = await open();
      const ids = ['f-1', 'f-2', 'f-3'];
      await expect(
        store.onceEach('labels', ids, async (tx) => {
          await tx.savePerformance({ model: 'failed', version: 1, state: JSON.stringify({ count: 3 }) });
          throw new Error('crash before the commit');
        }),
      ).rejects.toThrow('crash before the commit');
      expect((await store.load()).performance.find((p) => p.model === 'failed')).toBeUndefined();
      expect(await applyBatch(store, 'failed', ids)).toEqual(ids);
      expect(await countOf(store, 'failed')).toBe(3);
    });

    it('keeps drift windows and reads them newest first, by version, before a window id', async () => {
      const store = await open();
      const window = (version: number, i: number) => ({
        model: 'drifting',
        version,
        windowStart: `2026-01-01T00:00:0${i}.000Z`,
        windowEnd: `2026-01-01T00:00:0${i}.500Z`,
        size: 100,
        evaluatedAt: Date.UTC(2026, 0, 1, 0, 0, i),
        datasetShare: i / 10,
        datasetThreshold: 0.5,
        datasetDrifted: i > 2,
        features: JSON.stringify([{ feature: 'tenure', statistic: 'ks', value: 1e-116 * i, threshold: 0.05, drifted: i > 2 }]),
      });
      for (const [version, i] of [[1, 1], [1, 2], [2, 3], [1, 4], [2, 5]]) await store.transaction((tx) => tx.saveDriftWindow(window(version, i)));
      const all = await store.driftWindows('drifting', { limit: 10 });
      expect(all.map((w) => [w.version, w.evaluatedAt])).toEqual([5, 4, 3, 2, 1].map((i) => [i === 3 || i === 5 ? 2 : 1, Date.UTC(2026, 0, 1, 0, 0, i)]));
      expect(all[0]).toMatchObject({ datasetShare: 0.5, datasetThreshold: 0.5, datasetDrifted: true, size: 100 });
      expect(JSON.parse(all[4].features)[0].value).toBe(1e-116);
      const v1 = await store.driftWindows('drifting', { version: 1, limit: 2 });
      expect(v1.map((w) => w.windowStart)).toEqual(['2026-01-01T00:00:04.000Z', '2026-01-01T00:00:02.000Z']);
      const older = await store.driftWindows('drifting', { version: 1, before: v1[1].id, limit: 2 });
      expect(older.map((w) => w.windowStart)).toEqual(['2026-01-01T00:00:01.000Z']);
      expect(await store.driftWindows('other', { limit: 10 })).toEqual([]);
      // Only version 1's newest 2 are kept; version 2's stay.
      await store.transaction((tx) => tx.pruneDriftWindows('drifting', 1, 2));
      expect((await store.driftWindows('drifting', { limit: 10 })).map((w) => w.evaluatedAt)).toEqual([5, 4, 3, 2].map((i) => Date.UTC(2026, 0, 1, 0, 0, i)));
      await store.transaction((tx) => tx.pruneDriftWindows('drifting', 2, 5));
      expect(await store.driftWindows('drifting', { version: 2, limit: 10 })).toHaveLength(2);
    });

    // Not for SQLite: the embedded mode's database has one process, one instance.
    if (concurrentInstances) it('gives each id to one of two instances applying overlapping batches at once', async () => {
      const [a, b] = [await open(), await open()];
      const ids = Array.from({ length: 50 }, (_, i) => `r-${i}`);
      const results = await Promise.allSettled([
        a.onceEach('labels', ids.slice(0, 40), async (_tx, fresh) => [...fresh]),
        b.onceEach('labels', ids.slice(10, 50), async (_tx, fresh) => [...fresh]),
      ]);
      const given = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
      expect(given.sort()).toEqual([...ids].sort());
    });
  });
}
