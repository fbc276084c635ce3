import { Inject, Injectable } from '@nestjs/common';
import { LessThan, LessThanOrEqual, type DataSource, type EntityManager, type FindOptionsWhere } from 'typeorm';
import { applyOnce, inTransaction, processedEventsSchema } from '@mlops/persistence';
import type { EventEnvelope } from '@mlops/contracts';
import {
  type CanaryRow,
  type ChampionRow,
  type CooldownRow,
  type DatasetRow,
  type DriftWindowRow,
  type MonitoringEntities,
  type OutboxRow,
  type PerformanceRow,
  type ReferenceRow,
  type RunRow,
  type VersionRow,
} from './entities';
import { MONITORING_DATABASE, type MonitoringDatabase } from './monitoring-database';

/** Everything a restarted monitor reloads. */
export interface StoredState {
  references: ReferenceRow[];
  datasets: DatasetRow[];
  runs: RunRow[];
  versions: VersionRow[];
  champions: ChampionRow[];
  canaries: CanaryRow[];
  performance: PerformanceRow[];
  cooldowns: CooldownRow[];
  outbox: OutboxRow[];
}

/** Writes inside one transaction (with the processed-event mark when applied once). */
export class StoreTransaction {
  constructor(
    readonly manager: EntityManager,
    private readonly tables: MonitoringEntities,
  ) {}

  saveReference(row: ReferenceRow) {
    return this.manager.upsert(this.tables.references, [row], ['model', 'version']);
  }
  saveDataset(row: DatasetRow) {
    return this.manager.upsert(this.tables.datasets, [row], ['datasetId']);
  }
  saveRun(row: RunRow) {
    return this.manager.upsert(this.tables.runs, [row], ['runId']);
  }
  saveVersion(row: VersionRow) {
    return this.manager.upsert(this.tables.versions, [row], ['model', 'version']);
  }
  saveChampion(row: ChampionRow) {
    return this.manager.upsert(this.tables.champions, [row], ['model']);
  }
  deleteChampion(model: string) {
    return this.manager.delete(this.tables.champions, { model });
  }
  saveCanary(row: CanaryRow) {
    return this.manager.upsert(this.tables.canaries, [row], ['model', 'version']);
  }
  savePerformance(row: PerformanceRow) {
    return this.manager.upsert(this.tables.performance, [row], ['model', 'version']);
  }
  saveCooldown(row: CooldownRow) {
    return this.manager.upsert(this.tables.cooldowns, [row], ['key']);
  }
  saveDriftWindow(row: DriftWindowRow) {
    return this.manager.insert(this.tables.driftWindows, row);
  }
  /** Deletes a version's drift windows beyond its newest `keep`. */
  async pruneDriftWindows(model: string, version: number, keep: number) {
    const [newestDropped] = await this.manager.find(this.tables.driftWindows, { select: { id: true }, where: { model, version }, order: { id: 'DESC' }, skip: keep, take: 1 });
    if (newestDropped) await this.manager.delete(this.tables.driftWindows, { model, version, id: LessThanOrEqual(newestDropped.id!) });
  }
  enqueue(event: EventEnvelope, now: number) {
    return this.manager.insert(this.tables.outbox, { id: event.id, event: JSON.stringify(event), createdAt: now });
  }
}

/**
 * The monitor's own tables (`<prefix>_*`, Postgres or SQLite through @mlops/persistence):
 * references, lineage facts, champions, canaries, performance aggregates, cooldowns, an
 * outbox of decided events and the evaluated drift windows. Live (open) drift windows and predictions awaiting labels stay in memory.
 */
@Injectable()
export class MonitoringRepository {
  readonly dataSource: DataSource;
  private readonly prefix: string;
  private readonly tables: MonitoringEntities;

  constructor(@Inject(MONITORING_DATABASE) database: MonitoringDatabase) {
    this.dataSource = database.dataSource;
    this.prefix = database.prefix;
    this.tables = database.tables;
  }

  async load(): Promise<StoredState> {
    const m = this.dataSource.manager;
    const t = this.tables;
    return {
      references: await m.find(t.references),
      datasets: await m.find(t.datasets),
      runs: await m.find(t.runs),
      versions: await m.find(t.versions),
      champions: await m.find(t.champions),
      canaries: await m.find(t.canaries),
      performance: await m.find(t.performance),
      cooldowns: await m.find(t.cooldowns),
      outbox: await m.find(t.outbox, { order: { createdAt: 'ASC' } }),
    };
  }

  /** Runs `work` in a transaction. */
  transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    return inTransaction(this.dataSource, (manager) => work(new StoreTransaction(manager, this.tables)));
  }

  /** Runs `work` once per (consumer, event id); a redelivered event is skipped. */
  async once<T>(consumer: string, eventId: string, work: (tx: StoreTransaction) => Promise<T>): Promise<{ applied: boolean; result?: T }> {
    const outcome = await applyOnce(this.dataSource, this.prefix, consumer, eventId, (manager) => work(new StoreTransaction(manager, this.tables)));
    return outcome.applied ? { applied: true, result: outcome.result } : { applied: false };
  }

  /**
   * Runs `work` once for a batch of events of one consumer, in ONE transaction: every id is
   * marked processed and `work` gets the ids that were not processed before (the only ones
   * whose effect it may write). A redelivered batch, or a redelivered event in it, is
   * skipped; two instances racing on an id both insert it, one waits and sees it taken.
   */
  onceEach<T>(consumer: string, eventIds: string[], work: (tx: StoreTransaction, fresh: ReadonlySet<string>) => Promise<T>): Promise<T> {
    return inTransaction(this.dataSource, async (manager) => {
      const fresh = await this.markProcessed(manager, consumer, eventIds);
      return work(new StoreTransaction(manager, this.tables), fresh);
    });
  }

  /** Multi-row `INSERT ... ON CONFLICT DO NOTHING RETURNING` (Postgres, SQLite 3.35+): the ids it inserted. */
  private async markProcessed(manager: EntityManager, consumer: string, eventIds: string[]): Promise<Set<string>> {
    const metadata = manager.connection.getMetadata(processedEventsSchema(this.prefix));
    const column = (property: string) => metadata.findColumnWithPropertyName(property)!;
    const [consumerColumn, idColumn, atColumn] = [column('consumer'), column('eventId'), column('processedAt')];
    const processedAt = manager.connection.driver.preparePersistentValue(new Date(), atColumn);
    const postgres = manager.connection.options.type === 'postgres';
    const ids = [...new Set(eventIds)];
    const fresh = new Set<string>();
    // 3 parameters a row; 300 rows keep far below every driver's parameter limit.
    for (let start = 0; start < ids.length; start += 300) {
      const params: unknown[] = [];
      const rows = ids.slice(start, start + 300).map((id) => {
        params.push(consumer, id, processedAt);
        const n = params.length;
        return postgres ? `($${n - 2}, $${n - 1}, $${n})` : '(?, ?, ?)';
      });
      const inserted: Record<string, string>[] = await manager.query(
        `INSERT INTO "${metadata.tableName}" ("${consumerColumn.databaseName}", "${idColumn.databaseName}", "${atColumn.databaseName}") ` +
          `VALUES ${rows.join(', ')} ON CONFLICT DO NOTHING RETURNING "${idColumn.databaseName}"`,
        params,
      );
      for (const row of inserted) fresh.add(row[idColumn.databaseName]);
    }
    return fresh;
  }

  /** A model's drift windows (of one version, when given), newest first, `limit` of them evaluated before window `before`. */
  driftWindows(model: string, { version, before, limit }: { version?: number; before?: number; limit: number }): Promise<DriftWindowRow[]> {
    const where: FindOptionsWhere<DriftWindowRow> = { model };
    if (version !== undefined) where.version = version;
    if (before !== undefined) where.id = LessThan(before);
    return this.dataSource.manager.find(this.tables.driftWindows, { where, order: { id: 'DESC' }, take: limit });
  }

  async published(eventId: string): Promise<void> {
    await this.dataSource.manager.delete(this.tables.outbox, { id: eventId });
  }

  /** Canary prediction counts are written in the background (see MONITORING_STATE_FLUSH_MS). */
  async saveCanaryPredictions(model: string, version: number, predictions: number): Promise<void> {
    await this.transaction((tx) => tx.manager.update(this.tables.canaries, { model, version, status: 'watching' }, { predictions }));
  }
}
