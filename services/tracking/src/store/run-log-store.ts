import { InvalidInputError, NotFoundError } from '@mlops/errors';
import type { KeyValueRow, LatestMetricRow, MetricRow } from './entities';

export type RunLogRow = Omit<MetricRow, 'id'>;

/** One log-batch, already validated: params and tags deduplicated by key. */
export interface RunLogBatch {
  metrics: RunLogRow[];
  params: Omit<KeyValueRow, 'runUuid'>[];
  tags: Omit<KeyValueRow, 'runUuid'>[];
}

/**
 * The write side of log-batch (and every single log-* route), one port with an adapter per
 * database: all of a batch is written in one transaction or nothing is. The module provides
 * the adapter for its database (createRunLogStore) under this class.
 */
export abstract class RunLogStore {
  /**
   * Rejects an unknown run (NotFoundError), a run that is not active or a param whose stored
   * value differs (InvalidInputError); otherwise stores the metric history, the params, the
   * tags (a `mlflow.runName` tag renames the run) and raises each key's latest metric.
   */
  abstract logBatch(runId: string, batch: RunLogBatch): Promise<void>;
}

/** `lifecycleStage` as read inside the write transaction; undefined when there is no such run. */
export function assertRunLoggable(runId: string, lifecycleStage: string | undefined): void {
  if (lifecycleStage === undefined) throw new NotFoundError(`run with id=${runId} not found`);
  if (lifecycleStage !== 'active') {
    throw new InvalidInputError(`the run ${runId} must be in the 'active' state; current state is ${lifecycleStage}`);
  }
}

/** MLflow params are write-once: logging the same value again is fine, another value is not. */
export function assertParamUnchanged(runId: string, key: string, stored: string | undefined, value: string): void {
  if (stored !== value) {
    throw new InvalidInputError(
      `Changing param values is not allowed. Param with key='${key}' was already logged with value='${stored}' for run ID='${runId}'. Attempted logging new value '${value}'.`,
    );
  }
}

/** MLflow's "latest" metric: the greatest (step, timestamp, value). */
export function compareMetric(a: LatestMetricRow, b: LatestMetricRow): number {
  return a.step - b.step || a.timestamp - b.timestamp || a.value - b.value;
}

/** The candidate latest row per key within one batch (the store keeps it only if it beats the stored one). */
export function latestPerKey(rows: RunLogRow[]): RunLogRow[] {
  const latest = new Map<string, RunLogRow>();
  for (const row of rows) {
    const current = latest.get(row.key);
    if (!current || compareMetric(row, current) > 0) latest.set(row.key, row);
  }
  return [...latest.values()];
}

/**
 * The conditional upsert that keeps `tracking_latest_metrics` race-free: a row replaces the
 * stored one only if its (step, timestamp, value) is not smaller. `p(i)` writes placeholder i (0-5).
 */
export function latestMetricUpsertSql(p: (i: number) => string): string {
  return `INSERT INTO tracking_latest_metrics (run_uuid, key, value, is_nan, "timestamp", step)
    VALUES (${p(0)}, ${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)})
    ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value, is_nan = excluded.is_nan,
      "timestamp" = excluded."timestamp", step = excluded.step
    WHERE (excluded.step, excluded."timestamp", excluded.value) >=
          (tracking_latest_metrics.step, tracking_latest_metrics."timestamp", tracking_latest_metrics.value)`;
}
