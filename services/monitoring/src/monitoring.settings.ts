import type { MonitoringConfig } from './monitoring.config';
import type { AggregateOptions, PerformanceMetric } from './performance/performance-aggregate';
import type { OutputNames } from './performance/prediction-outcome';

/** Injection token of the MonitoringSettings. */
export const MONITORING_SETTINGS = Symbol('MonitoringSettings');

/** The monitor's configuration (parsed once, monitoring.config.ts) grouped by use case. */
export interface MonitoringSettings {
  http: { port: number; host: string; bodyLimit: string; apiToken?: string };
  database: { url: string; tablePrefix: string };
  /** Consumer group prefix (`<group>`, `<group>.labels`, `<group>.lifecycle`) and label batches. */
  bus: { group: string; labelBatchMax: number };
  drift: {
    windowSize: number;
    datasetDriftShare: number;
    /** 0: reference only from the training dataset or by hand; N: learn it from the first N predictions of a version. */
    referenceFromFirst: number;
    /** Evaluated windows kept per model version in the drift history. */
    historyWindows: number;
  };
  /** A version's reference from its training dataset: this many rows, evenly spread. */
  references: { trainingRows: number };
  /** After a drift.detected (per model) or performance.degraded (per version), further ones wait this long. */
  cooldownSeconds: number;
  labels: {
    outputs: OutputNames;
    /** Predictions (and early labels) kept waiting, at most. */
    pendingMax: number;
    ttlMs: number;
    /** How long a label that overtook its prediction (another topic) waits for it. */
    earlyWaitMs: number;
  };
  performance: {
    aggregate: AggregateOptions;
    classificationMetric: PerformanceMetric;
    regressionMetric: PerformanceMetric;
    tolerance: number;
    minLabels: number;
  };
  canary: {
    minPredictions: number;
    minLabels: number;
    labelWaitMs: number;
    tolerance: number;
    confidence: number;
    /** Canary prediction counts are written at most this often (and at shutdown). */
    flushMs: number;
  };
}

export function monitoringSettings(config: MonitoringConfig): MonitoringSettings {
  return {
    http: { port: config.MONITORING_PORT, host: config.MONITORING_HOST, bodyLimit: config.MONITORING_BODY_LIMIT, apiToken: config.API_TOKEN },
    database: { url: config.DATABASE_URL, tablePrefix: config.MONITORING_TABLE_PREFIX },
    bus: { group: config.MONITORING_GROUP, labelBatchMax: config.MONITORING_LABEL_BATCH_MAX },
    drift: {
      windowSize: config.MONITORING_WINDOW_SIZE,
      datasetDriftShare: config.MONITORING_DATASET_DRIFT_SHARE,
      referenceFromFirst: config.MONITORING_REFERENCE_FROM_FIRST,
      historyWindows: config.MONITORING_DRIFT_HISTORY_WINDOWS,
    },
    references: { trainingRows: config.MONITORING_REFERENCE_ROWS },
    cooldownSeconds: config.MONITORING_COOLDOWN_S,
    labels: {
      outputs: { label: config.MONITORING_LABEL_OUTPUT, probabilities: config.MONITORING_PROBABILITY_OUTPUT, prediction: config.MONITORING_PREDICTION_OUTPUT },
      pendingMax: config.MONITORING_LABEL_PENDING_MAX,
      ttlMs: config.MONITORING_LABEL_TTL_S * 1000,
      earlyWaitMs: config.MONITORING_LABEL_EARLY_WAIT_S * 1000,
    },
    performance: {
      aggregate: { aucBins: config.MONITORING_AUC_BINS, positiveLabel: config.MONITORING_POSITIVE_LABEL },
      classificationMetric: config.MONITORING_CLASSIFICATION_METRIC,
      regressionMetric: config.MONITORING_REGRESSION_METRIC,
      tolerance: config.MONITORING_PERFORMANCE_TOLERANCE,
      minLabels: config.MONITORING_PERFORMANCE_MIN_LABELS,
    },
    canary: {
      minPredictions: config.MONITORING_CANARY_MIN_PREDICTIONS,
      minLabels: config.MONITORING_CANARY_MIN_LABELS,
      labelWaitMs: config.MONITORING_CANARY_LABEL_WAIT_S * 1000,
      tolerance: config.MONITORING_CANARY_TOLERANCE,
      confidence: config.MONITORING_CANARY_CONFIDENCE,
      flushMs: config.MONITORING_STATE_FLUSH_MS,
    },
  };
}
