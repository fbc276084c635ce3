import type { DataSource, EntityManager } from 'typeorm';
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

/** Rows per multi-row metric INSERT: 6 parameters each, far below Postgres' 65,535. */
const METRIC_ROWS_PER_INSERT = 500;

/**
 * The log-batch writer for Postgres (and any other TypeORM database): parameterised SQL
 * through TypeORM's connection and transaction. Plain SQL rather than TypeORM's insert
 * builder, whose parameter bookkeeping costs more than the database for a 1,000-row batch.
 */
export class TypeormRunLogStore implements RunLogStore {
  private readonly postgres: boolean;

  constructor(private readonly dataSource: DataSource) {
    this.postgres = dataSource.options.type === 'postgres';
  }

  /** `$n` on Postgres, `?` elsewhere. */
  private placeholder(n: number): string {
    return this.postgres ? `$${n}` : '?';
  }

  logBatch(runId: string, batch: RunLogBatch): Promise<void> {
    return inTransaction(this.dataSource, async (manager) => {
      const [run] = (await manager.query(`SELECT lifecycle_stage FROM tracking_runs WHERE run_uuid = ${this.placeholder(1)}`, [runId])) as {
        lifecycle_stage: string;
      }[];
      assertRunLoggable(runId, run?.lifecycle_stage);
      if (batch.params.length) await this.insertParams(manager, runId, batch);
      if (batch.tags.length) await this.upsertTags(manager, runId, batch);
      if (batch.metrics.length) await this.insertMetrics(manager, batch.metrics);
    });
  }

  private async insertParams(manager: EntityManager, runId: string, batch: RunLogBatch): Promise<void> {
    const p = (i: number) => this.placeholder(i);
    for (const param of batch.params) {
      await manager.query(
        `INSERT INTO tracking_params (run_uuid, key, value) VALUES (${p(1)}, ${p(2)}, ${p(3)}) ON CONFLICT (run_uuid, key) DO NOTHING`,
        [runId, param.key, param.value],
      );
      const [stored] = (await manager.query(`SELECT value FROM tracking_params WHERE run_uuid = ${p(1)} AND key = ${p(2)}`, [
        runId,
        param.key,
      ])) as { value: string }[];
      assertParamUnchanged(runId, param.key, stored?.value, param.value);
    }
  }

  private async upsertTags(manager: EntityManager, runId: string, batch: RunLogBatch): Promise<void> {
    const p = (i: number) => this.placeholder(i);
    for (const tag of batch.tags) {
      await manager.query(
        `INSERT INTO tracking_tags (run_uuid, key, value) VALUES (${p(1)}, ${p(2)}, ${p(3)})
         ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value`,
        [runId, tag.key, tag.value],
      );
    }
    const runName = batch.tags.find((t) => t.key === RUN_NAME_TAG);
    if (runName) await manager.query(`UPDATE tracking_runs SET name = ${p(1)} WHERE run_uuid = ${p(2)}`, [runName.value.slice(0, 250), runId]);
  }

  private async insertMetrics(manager: EntityManager, rows: RunLogRow[]): Promise<void> {
    const bool = this.postgres ? (v: boolean) => v : (v: boolean) => (v ? 1 : 0);
    for (let start = 0; start < rows.length; start += METRIC_ROWS_PER_INSERT) {
      const chunk = rows.slice(start, start + METRIC_ROWS_PER_INSERT);
      const params: unknown[] = [];
      const tuples = chunk.map((m) => {
        const n = params.push(m.runUuid, m.key, m.value, bool(m.isNan), m.timestamp, m.step) - 6;
        return `(${[1, 2, 3, 4, 5, 6].map((i) => this.placeholder(n + i)).join(', ')})`;
      });
      await manager.query(
        `INSERT INTO tracking_metrics (run_uuid, key, value, is_nan, "timestamp", step) VALUES ${tuples.join(', ')}`,
        params,
      );
    }
    const upsert = latestMetricUpsertSql((i) => (this.postgres && i === 3 ? `${this.placeholder(i + 1)}::boolean` : this.placeholder(i + 1)));
    for (const m of latestPerKey(rows)) {
      await manager.query(upsert, [m.runUuid, m.key, m.value, bool(m.isNan), m.timestamp, m.step]);
    }
  }
}
