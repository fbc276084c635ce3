import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one monitoring instance (its own registry, so instances do not clash). */
export class MonitoringMetrics {
  readonly registry = new Registry();
  readonly predictions = new Counter({
    name: 'mlops_monitoring_predictions_total',
    help: 'logged predictions (rows of prediction.logged) applied to drift windows',
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

  readonly performance = new Gauge({
    name: 'mlops_monitoring_performance',
    help: 'Live performance of a model version from joined labels (accuracy, f1, roc_auc, mae, rmse)',
    labelNames: ['model', 'version', 'metric'] as const,
    registers: [this.registry],
  });
  readonly labels = new Counter({
    name: 'mlops_monitoring_labels_total',
    help: 'label.observed events joined to a logged prediction and counted',
    labelNames: ['model', 'version'] as const,
    registers: [this.registry],
  });
  readonly labelsUnmatched = new Counter({
    name: 'mlops_monitoring_labels_unmatched_total',
    help: 'label.observed events with no waiting prediction (unknown, expired or evicted id, or a label that does not fit)',
    registers: [this.registry],
  });
  /** Read at scrape time: predictions waiting for labels and those evicted unlabelled. */
  labelJoin: () => { pending: number; evicted: number } = () => ({ pending: 0, evicted: 0 });
  readonly pendingPredictions: Gauge = new Gauge({
    name: 'mlops_monitoring_pending_predictions',
    help: 'Predictions kept in memory waiting for their label',
    registers: [this.registry],
    collect: (): void => this.pendingPredictions.set(this.labelJoin().pending),
  });
  readonly evictedUnlabelled: Gauge = new Gauge({
    name: 'mlops_monitoring_predictions_evicted_unlabelled',
    help: 'Predictions evicted (size or TTL) before their label arrived, since start',
    registers: [this.registry],
    collect: (): void => this.evictedUnlabelled.set(this.labelJoin().evicted),
  });
  readonly performanceDegraded = new Counter({
    name: 'mlops_monitoring_performance_degraded_total',
    help: 'performance.degraded events published (after cooldown)',
    labelNames: ['model', 'metric'] as const,
    registers: [this.registry],
  });
  readonly canaryVerdicts = new Counter({
    name: 'mlops_monitoring_canary_verdicts_total',
    help: 'canary.evaluated events decided, by verdict',
    labelNames: ['model', 'verdict'] as const,
    registers: [this.registry],
  });
  readonly referenceReady = new Gauge({
    name: 'mlops_monitoring_reference_ready',
    help: '1 if the version has a drift reference from its training dataset, 0 if it is waiting or unavailable',
    labelNames: ['model', 'version'] as const,
    registers: [this.registry],
  });

  constructor(defaults = false) {
    if (defaults) collectDefaultMetrics({ register: this.registry });
  }
}
