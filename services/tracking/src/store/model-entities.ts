import { EntitySchema, type ValueTransformer } from 'typeorm';

/** Postgres returns BIGINT as a string; timestamps and steps fit a double. */
const bigintNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? null : Number(value)),
};

/** An MLflow 3 logged model: a model logged from a run (or on its own), with its artifacts under artifactLocation. */
export interface LoggedModelRow {
  modelId: string;
  experimentId: number;
  name: string;
  artifactLocation: string;
  creationTimestampMs: number;
  lastUpdatedTimestampMs: number;
  /** PENDING, READY or FAILED. */
  status: string;
  statusMessage: string | null;
  modelType: string | null;
  sourceRunId: string | null;
  lifecycleStage: string;
}

export interface ModelKeyValueRow {
  modelId: string;
  key: string;
  value: string;
}

/** A logged model a run produced (runs/outputs), at a step. */
export interface RunOutputRow {
  runUuid: string;
  modelId: string;
  step: number;
}

/** A logged model a run used (runs/log-inputs). */
export interface RunModelInputRow {
  runUuid: string;
  modelId: string;
}

/** A dataset a run used (runs/log-inputs), with its input tags as a JSON list of {key, value}. */
export interface RunDatasetRow {
  runUuid: string;
  name: string;
  digest: string;
  /** The input's mlflow.data.context tag (training, eval, ...), for `datasets.context` filters. */
  context: string | null;
  sourceType: string;
  source: string;
  schema: string | null;
  profile: string | null;
  tags: string;
}

export const LoggedModelEntity = new EntitySchema<LoggedModelRow>({
  name: 'TrackingLoggedModel',
  tableName: 'tracking_logged_models',
  columns: {
    modelId: { type: String, primary: true, length: 64, name: 'model_id' },
    experimentId: { type: Number, name: 'experiment_id' },
    name: { type: String, length: 250 },
    artifactLocation: { type: 'text', name: 'artifact_location' },
    creationTimestampMs: { type: 'bigint', name: 'creation_timestamp_ms', transformer: bigintNumber },
    lastUpdatedTimestampMs: { type: 'bigint', name: 'last_updated_timestamp_ms', transformer: bigintNumber },
    status: { type: String, length: 20 },
    statusMessage: { type: 'text', name: 'status_message', nullable: true },
    modelType: { type: String, length: 500, name: 'model_type', nullable: true },
    sourceRunId: { type: String, length: 32, name: 'source_run_id', nullable: true },
    lifecycleStage: { type: String, length: 32, name: 'lifecycle_stage' },
  },
});

const modelKeyValue = (name: string, tableName: string) =>
  new EntitySchema<ModelKeyValueRow>({
    name,
    tableName,
    columns: {
      modelId: { type: String, primary: true, length: 64, name: 'model_id' },
      key: { type: String, primary: true, length: 250 },
      value: { type: 'text' },
    },
  });

export const LoggedModelParamEntity = modelKeyValue('TrackingLoggedModelParam', 'tracking_logged_model_params');
export const LoggedModelTagEntity = modelKeyValue('TrackingLoggedModelTag', 'tracking_logged_model_tags');

export const RunOutputEntity = new EntitySchema<RunOutputRow>({
  name: 'TrackingRunOutput',
  tableName: 'tracking_run_outputs',
  columns: {
    runUuid: { type: String, primary: true, length: 32, name: 'run_uuid' },
    modelId: { type: String, primary: true, length: 64, name: 'model_id' },
    step: { type: 'bigint', transformer: bigintNumber },
  },
});

export const RunModelInputEntity = new EntitySchema<RunModelInputRow>({
  name: 'TrackingRunModelInput',
  tableName: 'tracking_run_model_inputs',
  columns: {
    runUuid: { type: String, primary: true, length: 32, name: 'run_uuid' },
    modelId: { type: String, primary: true, length: 64, name: 'model_id' },
  },
});

export const RunDatasetEntity = new EntitySchema<RunDatasetRow>({
  name: 'TrackingRunDataset',
  tableName: 'tracking_run_datasets',
  columns: {
    runUuid: { type: String, primary: true, length: 32, name: 'run_uuid' },
    name: { type: String, primary: true, length: 500 },
    digest: { type: String, primary: true, length: 36 },
    context: { type: String, length: 250, nullable: true },
    sourceType: { type: String, length: 36, name: 'source_type' },
    source: { type: 'text' },
    schema: { type: 'text', nullable: true },
    profile: { type: 'text', nullable: true },
    tags: { type: 'text' },
  },
});

export const modelEntities = [LoggedModelEntity, LoggedModelParamEntity, LoggedModelTagEntity, RunOutputEntity, RunModelInputEntity, RunDatasetEntity];
