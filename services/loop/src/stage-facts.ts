import type { AnyEvent } from '@mlops/contracts';
import type { StageRow } from './store/entities';

export type Facts = Record<string, string | number | boolean | string[] | Record<string, number> | undefined>;

/** The key facts of a loop event, kept with its stage (not the whole payload). */
export function factsOf(event: AnyEvent): Facts {
  switch (event.type) {
    case 'drift.detected':
      return {
        version: event.data.version,
        driftedFeatures: event.data.features.filter((f) => f.drifted).map((f) => f.feature),
        share: event.data.datasetDrift.share,
        windowSize: event.data.window.size,
      };
    case 'retrain.requested':
      return { featureView: event.data.featureView, reason: event.data.reason };
    case 'dataset.materialized':
      return { datasetId: event.data.datasetId, rowCount: event.data.rowCount, hash: event.data.hash.slice(0, 12) };
    case 'training.started':
      return { jobId: event.data.jobId, trainer: event.data.trainer };
    case 'training.completed':
      return { jobId: event.data.jobId, runId: event.data.runId, metrics: event.data.metrics };
    case 'training.failed':
      return { jobId: event.data.jobId, error: event.data.error };
    case 'model.registered':
      return { version: event.data.version, runId: event.data.runId, artifactHash: event.data.artifactHash.slice(0, 12) };
    case 'deployment.requested':
      return { version: event.data.version, strategy: event.data.strategy, canaryShare: event.data.canaryShare };
    case 'deployment.completed':
      return { version: event.data.version, status: event.data.status, trafficShare: event.data.trafficShare, error: event.data.error };
    case 'canary.evaluated':
      return {
        version: event.data.version,
        championVersion: event.data.championVersion,
        verdict: event.data.verdict,
        reason: event.data.reason,
        predictions: event.data.predictions,
        labels: event.data.labels,
        metric: event.data.metric,
        canaryValue: event.data.canaryValue,
        championValue: event.data.championValue,
      };
    case 'model.promoted':
      return { version: event.data.version, alias: event.data.alias, previousVersion: event.data.previousVersion };
    case 'model.rolled_back':
      return { version: event.data.version, restoredVersion: event.data.restoredVersion, reason: event.data.reason };
    case 'performance.degraded':
      return { version: event.data.version, metric: event.data.metric, value: event.data.value, baseline: event.data.baseline, threshold: event.data.threshold };
    default:
      return {};
  }
}

/** Drops undefined values so the stored JSON stays small and stable. */
export function compact(facts: Facts): Facts {
  return Object.fromEntries(Object.entries(facts).filter(([, v]) => v !== undefined));
}

/** The stage row of a loop event (its key facts, not the whole payload). */
export function stageOf(correlationId: string, event: AnyEvent, at: number, extra: { ignored?: boolean; note?: string } = {}): StageRow {
  return {
    correlationId,
    type: event.type,
    eventId: event.id,
    source: event.source,
    at,
    facts: JSON.stringify(compact(factsOf(event))),
    ignored: extra.ignored ?? false,
    note: extra.note ?? null,
  };
}
