import { EntitySchema, type ValueTransformer } from 'typeorm';

/** Postgres returns BIGINT as a string; timestamps are ms that fit a double. */
const bigintNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? null : Number(value)),
};

export type ReferenceStatus = 'ready' | 'waiting-for-lineage' | 'unavailable';

/** A version's drift reference: the validated body it was built from (rows <= MONITORING_REFERENCE_ROWS). */
export interface ReferenceRow {
  model: string;
  version: number;
  status: ReferenceStatus;
  /** `training-dataset`, `http` or `first-predictions` */
  source: string | null;
  /** JSON of the reference body ({rows} or {columns}, overrides); null until ready. */
  body: string | null;
  datasetId: string | null;
  problem: string | null;
  updatedAt: number;
}

export interface DatasetRow {
  datasetId: string;
  uri: string;
  /** JSON [{name, type}] */
  schema: string;
}

export interface RunRow {
  runId: string;
  model: string;
  datasetId: string | null;
  /** JSON string[]: the model's input feature order */
  features: string;
  /** JSON {metric: value} reported by training */
  metrics: string;
}

export interface VersionRow {
  model: string;
  version: number;
  runId: string | null;
}

export interface ChampionRow {
  model: string;
  version: number;
}

export type CanaryStatus = 'watching' | 'evaluated' | 'ended';

export interface CanaryRow {
  model: string;
  version: number;
  championVersion: number;
  status: CanaryStatus;
  /** The deployment.completed that started it: its correlation id is the verdict's. */
  correlationId: string;
  deploymentEventId: string;
  predictions: number;
  /** JSON {canary: AggregateState, champion: AggregateState}: labels seen while the canary ran */
  comparison: string;
  /** JSON of the canary.evaluated payload once decided */
  verdict: string | null;
  endedReason: string | null;
  startedAt: number;
}

export interface PerformanceRow {
  model: string;
  version: number;
  /** JSON AggregateState */
  state: string;
}

export interface CooldownRow {
  key: string;
  lastAt: number;
}

/** Events decided but not yet known to be published; sent (again) until they are. */
export interface OutboxRow {
  id: string;
  event: string;
  createdAt: number;
}

/** One evaluated drift window of a model version: the dataset drift and each feature's statistic against its threshold. */
export interface DriftWindowRow {
  /** Increasing with evaluation order: the history's order and its page token. */
  id?: number;
  model: string;
  version: number;
  windowStart: string;
  windowEnd: string;
  size: number;
  evaluatedAt: number;
  datasetShare: number;
  datasetThreshold: number;
  datasetDrifted: boolean;
  /** JSON [{feature, statistic, value, threshold, drifted}] */
  features: string;
}

export function monitoringEntities(prefix: string) {
  const bigint = (name: string) => ({ type: 'bigint' as const, name, transformer: bigintNumber });
  const model = { type: String, primary: true, length: 200 } as const;
  const version = { type: Number, primary: true } as const;
  return {
    references: new EntitySchema<ReferenceRow>({
      name: `${prefix}Reference`,
      tableName: `${prefix}_references`,
      columns: {
        model,
        version,
        status: { type: String, length: 30 },
        source: { type: String, length: 30, nullable: true },
        body: { type: 'text', nullable: true },
        datasetId: { type: String, length: 200, name: 'dataset_id', nullable: true },
        problem: { type: 'text', nullable: true },
        updatedAt: bigint('updated_at'),
      },
    }),
    datasets: new EntitySchema<DatasetRow>({
      name: `${prefix}Dataset`,
      tableName: `${prefix}_datasets`,
      columns: { datasetId: { type: String, primary: true, length: 200, name: 'dataset_id' }, uri: { type: 'text' }, schema: { type: 'text' } },
    }),
    runs: new EntitySchema<RunRow>({
      name: `${prefix}Run`,
      tableName: `${prefix}_runs`,
      columns: {
        runId: { type: String, primary: true, length: 200, name: 'run_id' },
        model: { type: String, length: 200 },
        datasetId: { type: String, length: 200, name: 'dataset_id', nullable: true },
        features: { type: 'text' },
        metrics: { type: 'text' },
      },
    }),
    versions: new EntitySchema<VersionRow>({
      name: `${prefix}Version`,
      tableName: `${prefix}_versions`,
      columns: { model, version, runId: { type: String, length: 200, name: 'run_id', nullable: true } },
    }),
    champions: new EntitySchema<ChampionRow>({
      name: `${prefix}Champion`,
      tableName: `${prefix}_champions`,
      columns: { model, version: { type: Number } },
    }),
    canaries: new EntitySchema<CanaryRow>({
      name: `${prefix}Canary`,
      tableName: `${prefix}_canaries`,
      columns: {
        model,
        version,
        championVersion: { type: Number, name: 'champion_version' },
        status: { type: String, length: 20 },
        correlationId: { type: String, length: 200, name: 'correlation_id' },
        deploymentEventId: { type: String, length: 200, name: 'deployment_event_id' },
        predictions: { type: Number },
        comparison: { type: 'text' },
        verdict: { type: 'text', nullable: true },
        endedReason: { type: 'text', name: 'ended_reason', nullable: true },
        startedAt: bigint('started_at'),
      },
    }),
    performance: new EntitySchema<PerformanceRow>({
      name: `${prefix}Performance`,
      tableName: `${prefix}_performance`,
      columns: { model, version, state: { type: 'text' } },
    }),
    cooldowns: new EntitySchema<CooldownRow>({
      name: `${prefix}Cooldown`,
      tableName: `${prefix}_cooldowns`,
      columns: { key: { type: String, primary: true, length: 450 }, lastAt: bigint('last_at') },
    }),
    outbox: new EntitySchema<OutboxRow>({
      name: `${prefix}Outbox`,
      tableName: `${prefix}_outbox`,
      columns: { id: { type: String, primary: true, length: 36 }, event: { type: 'text' }, createdAt: bigint('created_at') },
    }),
    driftWindows: new EntitySchema<DriftWindowRow>({
      name: `${prefix}DriftWindow`,
      tableName: `${prefix}_drift_windows`,
      columns: {
        id: { type: Number, primary: true, generated: 'increment' },
        model: { type: String, length: 200 },
        version: { type: Number },
        windowStart: { type: String, length: 40, name: 'window_start' },
        windowEnd: { type: String, length: 40, name: 'window_end' },
        size: { type: Number },
        evaluatedAt: bigint('evaluated_at'),
        datasetShare: { type: 'float', name: 'dataset_share' },
        datasetThreshold: { type: 'float', name: 'dataset_threshold' },
        datasetDrifted: { type: Boolean, name: 'dataset_drifted' },
        features: { type: 'text' },
      },
    }),
  };
}

export type MonitoringEntities = ReturnType<typeof monitoringEntities>;
