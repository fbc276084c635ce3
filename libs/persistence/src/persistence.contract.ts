import { randomUUID } from 'node:crypto';
import {
  EntitySchema,
  QueryFailedError,
  Table,
  type DataSource,
  type EntityManager,
  type MigrationInterface,
  type QueryRunner,
} from 'typeorm';
import { applyOnce, type ApplyOnceResult } from './apply-once';
import { openDataSource } from './data-source';

/** A row an effect writes, so a test can count how often the effect committed. */
interface Effect {
  id: string;
  consumer: string;
  eventId: string;
}

function effectsSchema(service: string): EntitySchema<Effect> {
  return new EntitySchema<Effect>({
    name: `${service}Effect`,
    tableName: `${service}_effects`,
    columns: {
      id: { type: String, primary: true, length: 36 },
      consumer: { type: String, length: 200 },
      eventId: { type: String, length: 200, name: 'event_id' },
    },
  });
}

function effectsMigration(service: string): new () => MigrationInterface {
  const table = `${service}_effects`;
  return class CreateEffects implements MigrationInterface {
    name = 'CreateEffects1763900000001';
    async up(runner: QueryRunner): Promise<void> {
      await runner.createTable(
        new Table({
          name: table,
          columns: [
            { name: 'id', type: 'varchar', length: '36', isPrimary: true },
            { name: 'consumer', type: 'varchar', length: '200' },
            { name: 'event_id', type: 'varchar', length: '200' },
          ],
        }),
      );
    }
    async down(runner: QueryRunner): Promise<void> {
      await runner.dropTable(table);
    }
  };
}

/** Postgres unique_violation: the documented outcome of losing an applyOnce race. */
function isUniqueViolation(error: unknown): boolean {
  return error instanceof QueryFailedError && (error.driverError as { code?: string })?.code === '23505';
}

export interface PersistenceContractOptions {
  /** False for `sqlite::memory:`, whose data ends with the connection. */
  survivesReopen?: boolean;
}

/**
 * The persistence contract every database behind `openDataSource` must keep. Run against
 * SQLite (unit tier) and a real Postgres server (integration tier). Every case uses its own
 * service prefix, so its tables are its own; all of them are dropped at the end.
 */
export function persistenceContract(
  name: string,
  makeUrl: () => string | Promise<string>,
  { survivesReopen = true }: PersistenceContractOptions = {},
) {
  describe(`persistence contract: ${name}`, () => {
    const runId = `t${Date.now()}${Math.floor(Math.random() * 1000)}`;
    let url: string;
    let cases = 0;
    const open: DataSource[] = [];
    const tables = new Set<string>();

    function newService(): string {
      return `${runId}_${++cases}`;
    }

    async function openService(service: string): Promise<{ ds: DataSource; effects: EntitySchema<Effect> }> {
      for (const suffix of ['processed_events', 'migrations', 'effects']) tables.add(`${service}_${suffix}`);
      const effects = effectsSchema(service);
      const ds = await openDataSource({ service, url, entities: [effects], migrations: [effectsMigration(service)] });
      open.push(ds);
      return { ds, effects };
    }

    async function close(ds: DataSource): Promise<void> {
      open.splice(open.indexOf(ds), 1);
      await ds.destroy();
    }

    /** The effect every case applies: one row per committed application. */
    const writeEffect =
      (effects: EntitySchema<Effect>, consumer: string, eventId: string) =>
      async (manager: EntityManager): Promise<string> => {
        const id = randomUUID();
        await manager.insert(effects, { id, consumer, eventId });
        return id;
      };

    const countEffects = (ds: DataSource, effects: EntitySchema<Effect>, where: Partial<Effect> = {}) =>
      ds.getRepository(effects).count({ where });

    const countProcessed = async (ds: DataSource, service: string) =>
      Number((await ds.query(`SELECT COUNT(*) AS n FROM "${service}_processed_events"`))[0].n);

    beforeAll(async () => {
      url = await makeUrl();
    });

    afterEach(async () => {
      await Promise.all(open.splice(0).map((ds) => ds.destroy()));
    });

    afterAll(async () => {
      if (!url) return;
      const cleanup = newService();
      const { ds } = await openService(cleanup);
      try {
        for (const table of tables) await ds.query(`DROP TABLE IF EXISTS "${table}"`);
      } finally {
        await close(ds);
      }
    });

    it('creates the processed-events and migrations tables, and reopening is idempotent', async () => {
      const service = newService();
      const { ds } = await openService(service);
      const runner = ds.createQueryRunner();
      try {
        expect(await runner.hasTable(`${service}_processed_events`)).toBe(true);
        expect(await runner.hasTable(`${service}_migrations`)).toBe(true);
        expect(await runner.hasTable(`${service}_effects`)).toBe(true);
        const processed = await runner.getTable(`${service}_processed_events`);
        expect(processed?.primaryColumns.map((c) => c.name).sort()).toEqual(['consumer', 'event_id']);
      } finally {
        await runner.release();
      }
      const migrations = async (d: DataSource) =>
        (await d.query(`SELECT name FROM "${service}_migrations" ORDER BY id`)).map((r: { name: string }) => r.name);
      expect(await migrations(ds)).toEqual(['CreateProcessedEvents1763900000000', 'CreateEffects1763900000001']);
      expect(await ds.showMigrations()).toBe(false);

      if (!survivesReopen) return;
      await close(ds);
      const { ds: again } = await openService(service);
      expect(await migrations(again)).toEqual(['CreateProcessedEvents1763900000000', 'CreateEffects1763900000001']);
      expect(await again.showMigrations()).toBe(false);
    });

    it('lets several instances of a service open a fresh database at once', async () => {
      const service = newService();
      const instances = await Promise.all([openService(service), openService(service), openService(service)]);
      const rows = await instances[0].ds.query(`SELECT name FROM "${service}_migrations"`);
      // In memory every instance has its own database; elsewhere they share one.
      expect(rows).toHaveLength(2);
      const eventId = randomUUID();
      const results = [];
      for (const { ds, effects } of instances) {
        results.push((await applyOnce(ds, service, 'projector', eventId, writeEffect(effects, 'projector', eventId))).applied);
      }
      expect(results).toEqual(survivesReopen ? [true, false, false] : [true, true, true]);
    });

    it('keeps the tables of different services apart', async () => {
      const a = newService();
      const b = newService();
      const { ds: dsA, effects: effectsA } = await openService(a);
      const { ds: dsB, effects: effectsB } = await openService(b);
      expect((await applyOnce(dsA, a, 'c', 'e1', writeEffect(effectsA, 'c', 'e1'))).applied).toBe(true);
      expect(await countProcessed(dsA, a)).toBe(1);
      if (survivesReopen) {
        // Same database, different prefixes: b has seen nothing.
        expect(await countProcessed(dsB, b)).toBe(0);
        expect(await countEffects(dsB, effectsB)).toBe(0);
      }
      expect((await applyOnce(dsB, b, 'c', 'e1', writeEffect(effectsB, 'c', 'e1'))).applied).toBe(true);
    });

    it('applies an effect once and reports applied:false for the same event again', async () => {
      const service = newService();
      const { ds, effects } = await openService(service);
      const eventId = randomUUID();

      const first = await applyOnce(ds, service, 'projector', eventId, writeEffect(effects, 'projector', eventId));
      expect(first.applied).toBe(true);
      const firstId = (first as { result: string }).result;
      expect(typeof firstId).toBe('string');

      let ranAgain = false;
      const second = await applyOnce(ds, service, 'projector', eventId, async (manager) => {
        ranAgain = true;
        return writeEffect(effects, 'projector', eventId)(manager);
      });
      expect(second).toEqual({ applied: false });
      expect(ranAgain).toBe(false);

      const rows = await ds.getRepository(effects).find();
      expect(rows).toEqual([{ id: firstId, consumer: 'projector', eventId }]);
      expect(await countProcessed(ds, service)).toBe(1);

      // Another event id is another event.
      expect((await applyOnce(ds, service, 'projector', randomUUID(), writeEffect(effects, 'projector', 'x'))).applied).toBe(true);
      expect(await countEffects(ds, effects)).toBe(2);
    });

    it('rolls back the effect and the processed mark together when the effect throws; a retry applies it', async () => {
      const service = newService();
      const { ds, effects } = await openService(service);
      const eventId = randomUUID();
      const boom = new Error('effect failed half-way');

      await expect(
        applyOnce(ds, service, 'projector', eventId, async (manager) => {
          await writeEffect(effects, 'projector', eventId)(manager);
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await countEffects(ds, effects)).toBe(0);
      expect(await countProcessed(ds, service)).toBe(0);

      const retry = await applyOnce(ds, service, 'projector', eventId, writeEffect(effects, 'projector', eventId));
      expect(retry.applied).toBe(true);
      expect(await countEffects(ds, effects, { eventId })).toBe(1);
      expect(await countProcessed(ds, service)).toBe(1);
    });

    it('applies the effect exactly once under 20 concurrent deliveries of the same event', async () => {
      const service = newService();
      const { ds, effects } = await openService(service);
      const eventId = randomUUID();

      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, () =>
          applyOnce(ds, service, 'projector', eventId, writeEffect(effects, 'projector', eventId)),
        ),
      );

      const fulfilled = outcomes.filter((o): o is PromiseFulfilledResult<ApplyOnceResult<string>> => o.status === 'fulfilled');
      const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(fulfilled.filter((o) => o.value.applied)).toHaveLength(1);
      for (const o of fulfilled) expect(o.value.applied === true || o.value.applied === false).toBe(true);
      // A loser of the primary-key race rolls back with a unique violation (Postgres only);
      // anything else is a bug.
      for (const o of rejected) expect(isUniqueViolation(o.reason), String(o.reason)).toBe(true);
      expect(fulfilled.length + rejected.length).toBe(20);

      expect(await countEffects(ds, effects, { eventId })).toBe(1);
      expect(await countProcessed(ds, service)).toBe(1);

      // Retrying a loser sees the event as applied.
      if (rejected.length > 0) {
        expect(await applyOnce(ds, service, 'projector', eventId, writeEffect(effects, 'projector', eventId))).toEqual({
          applied: false,
        });
        expect(await countEffects(ds, effects, { eventId })).toBe(1);
      }
    });

    it('lets different consumers each apply the same event once', async () => {
      const service = newService();
      const { ds, effects } = await openService(service);
      const eventId = randomUUID();

      for (const consumer of ['projector', 'notifier', 'auditor']) {
        const result = await applyOnce(ds, service, consumer, eventId, writeEffect(effects, consumer, eventId));
        expect(result.applied, consumer).toBe(true);
      }
      for (const consumer of ['projector', 'notifier', 'auditor']) {
        expect(await applyOnce(ds, service, consumer, eventId, writeEffect(effects, consumer, eventId))).toEqual({
          applied: false,
        });
        expect(await countEffects(ds, effects, { consumer, eventId })).toBe(1);
      }
      expect(await countProcessed(ds, service)).toBe(3);
    });

    // Registered only where data outlives the connection, so no case is ever skipped.
    if (survivesReopen) it('keeps effects and processed marks across close and reopen', async () => {
      const service = newService();
      const eventId = randomUUID();
      const { ds, effects } = await openService(service);
      const first = await applyOnce(ds, service, 'projector', eventId, writeEffect(effects, 'projector', eventId));
      expect(first.applied).toBe(true);
      await close(ds);

      const reopened = await openService(service);
      expect(await countEffects(reopened.ds, reopened.effects, { eventId })).toBe(1);
      expect(
        await applyOnce(reopened.ds, service, 'projector', eventId, writeEffect(reopened.effects, 'projector', eventId)),
      ).toEqual({ applied: false });
      expect(await countEffects(reopened.ds, reopened.effects, { eventId })).toBe(1);
      const marks = await reopened.ds.query(`SELECT consumer, event_id FROM "${service}_processed_events"`);
      expect(marks).toEqual([{ consumer: 'projector', event_id: eventId }]);
    });
  });
}
