import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics of one feature store instance, on its own registry (instances in one
 * process do not clash). Self-contained so a shared metrics library can replace it.
 */
export class FeatureStoreMetrics {
  readonly registry = new Registry();
  readonly eventsIngested = new Counter({
    name: 'mlops_feature_store_events_ingested_total',
    help: 'Events applied to a feature view (one per event and view; late = older than or as old as the entity latest event)',
    labelNames: ['view', 'late'] as const,
    registers: [this.registry],
  });
  readonly eventsRejected = new Counter({
    name: 'mlops_feature_store_events_rejected_total',
    help: 'Records a feature view could not use, by the field at fault',
    labelNames: ['view', 'field'] as const,
    registers: [this.registry],
  });
  readonly deadLettered = new Counter({
    name: 'mlops_feature_store_events_dead_lettered_total',
    help: 'data.validated events no view of their source could use (sent to data.validated.dlq)',
    registers: [this.registry],
  });
  readonly rowsRecomputed = new Counter({
    name: 'mlops_feature_store_rows_recomputed_total',
    help: 'History rows rewritten because a late event changed their windowed aggregations',
    labelNames: ['view'] as const,
    registers: [this.registry],
  });
  readonly onlineRequests = new Counter({
    name: 'mlops_feature_store_online_requests_total',
    help: 'GetOnlineFeatures calls, by gRPC status code name',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly onlineEntities = new Counter({
    name: 'mlops_feature_store_online_entities_total',
    help: 'Entities asked for in successful GetOnlineFeatures calls, by result status',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly onlineLatency = new Histogram({
    name: 'mlops_feature_store_online_request_seconds',
    help: 'GetOnlineFeatures handling time in the server (request decoded to response handed to gRPC)',
    labelNames: ['code'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly materializations = new Counter({
    name: 'mlops_feature_store_materializations_total',
    help: 'Dataset snapshots materialized, changed=false when identical to an earlier version',
    labelNames: ['view', 'changed'] as const,
    registers: [this.registry],
  });
  readonly freshnessLag = new Histogram({
    name: 'mlops_feature_store_freshness_lag_seconds',
    help: 'Wall clock at the online write minus the event time of the row written',
    labelNames: ['view'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400],
    registers: [this.registry],
  });

  constructor(defaults = false) {
    if (defaults) collectDefaultMetrics({ register: this.registry });
  }
}
