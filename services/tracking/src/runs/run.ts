import type { LatestMetricRow, RunRow } from '../store/entities';

/** The tag MLflow keeps a run's name in; logging it renames the run. */
export const RUN_NAME_TAG = 'mlflow.runName';

export interface MetricInput {
  key: string;
  value: number;
  timestamp: number;
  step: number;
  /** MLflow 3: the logged model the value is about (log_model re-logs the run's metrics with it). */
  modelId?: string;
}

export interface KeyValue {
  key: string;
  value: string;
}

/** A dataset a run used, with the input's tags (mlflow.data.context, ...). */
export interface DatasetInput {
  dataset: { name: string; digest: string; sourceType: string; source: string; schema?: string; profile?: string };
  tags: KeyValue[];
}

/** What a run used: datasets and logged models (by id). */
export interface RunInputs {
  datasets: DatasetInput[];
  modelIds: string[];
}

/** A logged model a run produced, at a step. */
export interface ModelOutput {
  modelId: string;
  step: number;
}

/** A run with what it logged: the latest value of each metric, its params and tags, each by key; its inputs and outputs. */
export interface RunWithData {
  info: RunRow;
  metrics: LatestMetricRow[];
  params: KeyValue[];
  tags: KeyValue[];
  inputs: RunInputs;
  outputs: ModelOutput[];
}
