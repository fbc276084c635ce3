import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one monitoring instance (its own registry, so instances do not clash). */
export class MonitoringMetrics {
  readonly registry = new Registry();
  readonly predictions = new Counter({
    name: 'mlops_monitoring_predictions_total',
    help: 'prediction.logged events applied to drift windows',
    labelNames: ['model', 'version'] as const,
    registers: [this.registry],
  });
  readonly windows = new Counter({
    name: 'mlops_monitoring_windows_total',
    help: 'Drift windows evaluated, by outcome',
    labelNames: ['model', 'version', 'dataset_drift'] as const,
    registers: [this.registry],
  });
  readonly driftEvents = new Counter({
    name: 'mlops_monitoring_drift_events_total',
    help: 'drift.detected events published (after cooldown)',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  readonly featureScore = new Gauge({
    name: 'mlops_monitoring_drift_score',
    help: 'Drift score of the last window per feature (p-value for ks/chisquare/z, distance otherwise)',
    labelNames: ['model', 'version', 'feature', 'statistic'] as const,
    registers: [this.registry],
  });
  readonly featureDrifted = new Gauge({
    name: 'mlops_monitoring_feature_drifted',
    help: '1 if the feature drifted in the last window',
    labelNames: ['model', 'version', 'feature'] as const,
    registers: [this.registry],
  });
  readonly driftShare = new Gauge({
    name: 'mlops_monitoring_drift_share',
    help: 'Share of drifted features in the last window',
    labelNames: ['model', 'version'] as const,
    registers: [this.registry],
  });

  constructor(defaults = false) {
    if (defaults) collectDefaultMetrics({ register: this.registry });
  }
}
