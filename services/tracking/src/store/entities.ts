import { EntitySchema, type ValueTransformer } from 'typeorm';
import { modelEntities } from './model-entities';

/** Postgres returns BIGINT as a string; timestamps and steps are ms / counters that fit a double. */
const bigintNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? null : Number(value)),
};

export interface ExperimentRow {
  experimentId: number;
  name: string;
  artifactLocation: string;
  lifecycleStage: string;
  creationTime: number;
  lastUpdateTime: number;
}

export interface ExperimentTagRow {
  experimentId: number;
  key: string;
  value: string;
}

export interface RunRow {
  runUuid: string;
  experimentId: number;
  name: string;
  userId: string;
  status: string;
  startTime: number;
  endTime: number | null;
  lifecycleStage: string;
  artifactUri: string;
}

export interface KeyValueRow {
  runUuid: string;
  key: string;
  value: string;
}

export interface MetricRow {
  id?: number;
  runUuid: string;
  key: string;
  value: number;
  isNan: boolean;
  timestamp: number;
  step: number;
}

export type LatestMetricRow = Omit<MetricRow, 'id'>;

export const ExperimentEntity = new EntitySchema<ExperimentRow>({
  name: 'TrackingExperiment',
  tableName: 'tracking_experiments',
  columns: {
    experimentId: { type: Number, primary: true, generated: 'increment', name: 'experiment_id' },
    name: { type: String, length: 256, unique: true },
    artifactLocation: { type: 'text', name: 'artifact_location' },
    lifecycleStage: { type: String, length: 32, name: 'lifecycle_stage' },
    creationTime: { type: 'bigint', name: 'creation_time', transformer: bigintNumber },
    lastUpdateTime: { type: 'bigint', name: 'last_update_time', transformer: bigintNumber },
  },
});

export const ExperimentTagEntity = new EntitySchema<ExperimentTagRow>({
  name: 'TrackingExperimentTag',
  tableName: 'tracking_experiment_tags',
  columns: {
    experimentId: { type: Number, primary: true, name: 'experiment_id' },
    key: { type: String, primary: true, length: 250 },
    value: { type: 'text' },
  },
});

export const RunEntity = new EntitySchema<RunRow>({
  name: 'TrackingRun',
  tableName: 'tracking_runs',
  columns: {
    runUuid: { type: String, primary: true, length: 32, name: 'run_uuid' },
    experimentId: { type: Number, name: 'experiment_id' },
    name: { type: String, length: 250 },
    userId: { type: String, length: 256, name: 'user_id' },
    status: { type: String, length: 20 },
    startTime: { type: 'bigint', name: 'start_time', transformer: bigintNumber },
    endTime: { type: 'bigint', name: 'end_time', nullable: true, transformer: bigintNumber },
    lifecycleStage: { type: String, length: 32, name: 'lifecycle_stage' },
    artifactUri: { type: 'text', name: 'artifact_uri' },
  },
});

export const ParamEntity = new EntitySchema<KeyValueRow>({
  name: 'TrackingParam',
  tableName: 'tracking_params',
  columns: {
    runUuid: { type: String, primary: true, length: 32, name: 'run_uuid' },
    key: { type: String, primary: true, length: 250 },
    value: { type: 'text' },
  },
});

export const TagEntity = new EntitySchema<KeyValueRow>({
  name: 'TrackingTag',
  tableName: 'tracking_tags',
  columns: {
    runUuid: { type: String, primary: true, length: 32, name: 'run_uuid' },
    key: { type: String, primary: true, length: 250 },
    value: { type: 'text' },
  },
});

const metricColumns = {
  runUuid: { type: String, length: 32, name: 'run_uuid' },
  key: { type: String, length: 250 },
  value: { type: 'float' },
  isNan: { type: Boolean, name: 'is_nan' },
  timestamp: { type: 'bigint', transformer: bigintNumber },
  step: { type: 'bigint', transformer: bigintNumber },
} as const;

/** Every logged value: the metric history, indexed by (run_uuid, key, step). */
export const MetricEntity = new EntitySchema<MetricRow>({
  name: 'TrackingMetric',
  tableName: 'tracking_metrics',
  columns: {
    id: { type: Number, primary: true, generated: 'increment' },
    ...metricColumns,
  },
});

/** The latest value per (run, key) by (step, timestamp, value), as MLflow defines "latest". */
export const LatestMetricEntity = new EntitySchema<LatestMetricRow>({
  name: 'TrackingLatestMetric',
  tableName: 'tracking_latest_metrics',
  columns: {
    ...metricColumns,
    runUuid: { ...metricColumns.runUuid, primary: true },
    key: { ...metricColumns.key, primary: true },
  },
});

export const trackingEntities = [
  ExperimentEntity,
  ExperimentTagEntity,
  RunEntity,
  ParamEntity,
  TagEntity,
  MetricEntity,
  LatestMetricEntity,
  ...modelEntities,
];
