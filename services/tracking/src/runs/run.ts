import type { LatestMetricRow, RunRow } from '../store/entities';

/** The tag MLflow keeps a run's name in; logging it renames the run. */
export const RUN_NAME_TAG = 'mlflow.runName';

export interface MetricInput {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

export interface KeyValue {
  key: string;
  value: string;
}

/** A run with what it logged: the latest value of each metric, its params and tags, each by key. */
export interface RunWithData {
  info: RunRow;
  metrics: LatestMetricRow[];
  params: KeyValue[];
  tags: KeyValue[];
}
