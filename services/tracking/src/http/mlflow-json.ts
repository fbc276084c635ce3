// The domain's experiments, runs and metrics as MLflow's JSON (protobuf JSON field names, ids as strings).
import type { Experiment } from '../experiments/experiment';
import type { RunWithData } from '../runs/run';
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
    inputs: {},
  };
}

/** `{..., next_page_token}` when there is a next page. */
export const nextPage = (token: string | undefined) => (token !== undefined ? { next_page_token: token } : {});
