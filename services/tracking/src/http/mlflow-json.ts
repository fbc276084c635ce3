// The domain's experiments, runs and metrics as MLflow's JSON (protobuf JSON field names, ids as strings).
import type { Experiment } from '../experiments/experiment';
import { wireStatus } from '../models/logged-model-status';
import type { DatasetInput, RunWithData } from '../runs/run';
import type { LoggedModelWithData } from '../store/logged-model.repository';
import type { LatestMetricRow, RunRow } from '../store/entities';

/** MLflow's JSON for a double: protobuf writes non-finite values as strings. */
const jsonDouble = (value: number): number | string =>
  Number.isFinite(value) ? value : Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';

export const metricJson = (m: LatestMetricRow) => ({
  key: m.key,
  value: jsonDouble(m.isNan ? NaN : m.value),
  timestamp: m.timestamp,
  step: m.step,
});

export function experimentJson(experiment: Experiment) {
  return {
    experiment_id: String(experiment.experimentId),
    name: experiment.name,
    artifact_location: experiment.artifactLocation,
    lifecycle_stage: experiment.lifecycleStage,
    last_update_time: experiment.lastUpdateTime,
    creation_time: experiment.creationTime,
    tags: experiment.tags,
  };
}

export function runInfoJson(run: RunRow) {
  return {
    run_id: run.runUuid,
    run_uuid: run.runUuid,
    run_name: run.name,
    experiment_id: String(run.experimentId),
    user_id: run.userId,
    status: run.status,
    start_time: run.startTime,
    ...(run.endTime !== null ? { end_time: run.endTime } : {}),
    artifact_uri: run.artifactUri,
    lifecycle_stage: run.lifecycleStage,
  };
}

export function runJson(run: RunWithData) {
  return {
    info: runInfoJson(run.info),
    data: { metrics: run.metrics.map(metricJson), params: run.params, tags: run.tags },
    inputs: {
      dataset_inputs: run.inputs.datasets.map(datasetInputJson),
      model_inputs: run.inputs.modelIds.map((id) => ({ model_id: id })),
    },
    outputs: { model_outputs: run.outputs.map((o) => ({ model_id: o.modelId, step: o.step })) },
  };
}

const datasetInputJson = ({ dataset, tags }: DatasetInput) => ({
  tags,
  dataset: {
    name: dataset.name,
    digest: dataset.digest,
    source_type: dataset.sourceType,
    source: dataset.source,
    ...(dataset.schema !== undefined ? { schema: dataset.schema } : {}),
    ...(dataset.profile !== undefined ? { profile: dataset.profile } : {}),
  },
});

/** MLflow's LoggedModel message: info (ids, artifact_uri, status enum name, tags) and data (params; no metrics here). */
export function loggedModelJson(model: LoggedModelWithData) {
  const { info } = model;
  return {
    info: {
      model_id: info.modelId,
      experiment_id: String(info.experimentId),
      name: info.name,
      creation_timestamp_ms: info.creationTimestampMs,
      last_updated_timestamp_ms: info.lastUpdatedTimestampMs,
      artifact_uri: info.artifactLocation,
      status: wireStatus(info.status),
      ...(info.statusMessage !== null ? { status_message: info.statusMessage } : {}),
      ...(info.modelType !== null ? { model_type: info.modelType } : {}),
      ...(info.sourceRunId !== null ? { source_run_id: info.sourceRunId } : {}),
      tags: model.tags,
    },
    data: { params: model.params, metrics: [] },
  };
}

/** `{..., next_page_token}` when there is a next page. */
export const nextPage = (token: string | undefined) => (token !== undefined ? { next_page_token: token } : {});
