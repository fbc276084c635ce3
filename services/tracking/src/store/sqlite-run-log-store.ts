import type { Database, Statement, Transaction } from 'better-sqlite3';
import type { DataSource } from 'typeorm';
import { inTransaction } from '@mlops/persistence';
import { RUN_NAME_TAG } from '../runs/run';
import {
  assertParamUnchanged,
  assertRunLoggable,
  latestMetricUpsertSql,
  latestPerKey,
  type RunLogBatch,
  type RunLogRow,
  type RunLogStore,
} from './run-log-store';

/** Rows per multi-row metric INSERT (6 parameters each); a 1,000-metric batch is 10 statements. */
const METRIC_ROWS_PER_INSERT = 100;

const metricInsertSql = (rows: number) =>
  `INSERT INTO tracking_metrics (run_uuid, key, value, is_nan, "timestamp", step) VALUES ${Array(rows).fill('(?, ?, ?, ?, ?, ?)').join(', ')}`;

/**
 * The log-batch writer for SQLite: better-sqlite3 prepared statements on TypeORM's own
 * connection (so it sees the same database and the same migrations), one synchronous
 * `BEGIN IMMEDIATE` transaction per batch. Synchronous means no other JavaScript runs
 * in between, and IMMEDIATE takes the write lock up front, so another process writing the
 * same file (several tracking workers) makes this one wait (busy_timeout) instead of failing
 * on a read-to-write upgrade.
 */
export class SqliteRunLogStore implements RunLogStore {
  private readonly db: Database;
  private readonly runStage: Statement<[string], { lifecycle_stage: string }>;
  private readonly insertParam: Statement<[string, string, string]>;
  private readonly paramValue: Statement<[string, string], { value: string }>;
  private readonly upsertTag: Statement<[string, string, string]>;
  private readonly renameRun: Statement<[string, string]>;
  private readonly upsertLatest: Statement<unknown[]>;
  private readonly metricInserts = new Map<number, Statement<unknown[]>>();
  private readonly write: Transaction<(runId: string, batch: RunLogBatch) => void>;

  constructor(private readonly dataSource: DataSource) {
    this.db = (dataSource.driver as unknown as { databaseConnection: Database }).databaseConnection;
    this.runStage = this.db.prepare('SELECT lifecycle_stage FROM tracking_runs WHERE run_uuid = ?');
    this.insertParam = this.db.prepare('INSERT INTO tracking_params (run_uuid, key, value) VALUES (?, ?, ?) ON CONFLICT (run_uuid, key) DO NOTHING');
    this.paramValue = this.db.prepare('SELECT value FROM tracking_params WHERE run_uuid = ? AND key = ?');
    this.upsertTag = this.db.prepare(
      'INSERT INTO tracking_tags (run_uuid, key, value) VALUES (?, ?, ?) ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value',
    );
    this.renameRun = this.db.prepare('UPDATE tracking_runs SET name = ? WHERE run_uuid = ?');
    this.upsertLatest = this.db.prepare(latestMetricUpsertSql(() => '?'));
    this.write = this.db.transaction((runId: string, batch: RunLogBatch) => this.writeBatch(runId, batch));
  }

  async logBatch(runId: string, batch: RunLogBatch): Promise<void> {
    // A TypeORM transaction of this process may be open between two of its awaits; ours
    // must not become part of it, so it queues behind it like any other transaction.
    if (this.db.inTransaction) return inTransaction(this.dataSource, async () => this.write(runId, batch));
    this.write.immediate(runId, batch);
  }

  private writeBatch(runId: string, batch: RunLogBatch): void {
    assertRunLoggable(runId, this.runStage.get(runId)?.lifecycle_stage);
    for (const param of batch.params) {
      if (this.insertParam.run(runId, param.key, param.value).changes === 0) {
        assertParamUnchanged(runId, param.key, this.paramValue.get(runId, param.key)?.value, param.value);
      }
    }
    for (const tag of batch.tags) this.upsertTag.run(runId, tag.key, tag.value);
    const runName = batch.tags.find((t) => t.key === RUN_NAME_TAG);
    if (runName) this.renameRun.run(runName.value.slice(0, 250), runId);
    if (batch.metrics.length) this.insertMetrics(batch.metrics);
  }

  private insertMetrics(rows: RunLogRow[]): void {
    for (let start = 0; start < rows.length; start += METRIC_ROWS_PER_INSERT) {
      const end = Math.min(start + METRIC_ROWS_PER_INSERT, rows.length);
      const values: unknown[] = [];
      for (let i = start; i < end; i++) {
        const m = rows[i];
        values.push(m.runUuid, m.key, m.value, m.isNan ? 1 : 0, m.timestamp, m.step);
      }
      this.metricInsert(end - start).run(values);
    }
    for (const m of latestPerKey(rows)) this.upsertLatest.run(m.runUuid, m.key, m.value, m.isNan ? 1 : 0, m.timestamp, m.step);
  }

  /** Prepared once per row count (at most METRIC_ROWS_PER_INSERT of them). */
  private metricInsert(rows: number): Statement<unknown[]> {
    let statement = this.metricInserts.get(rows);
    if (!statement) this.metricInserts.set(rows, (statement = this.db.prepare(metricInsertSql(rows))));
    return statement;
  }
}
