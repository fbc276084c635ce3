import { z } from 'zod';
import { apiTokenEnvSchema, busEnvSchema, databaseEnvSchema, loadConfig, port, withBusDefault } from '@mlops/config';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const share = (fallback: number) => z.coerce.number().min(0).max(1).default(fallback);

export const CLASSIFICATION_METRICS = ['accuracy', 'f1', 'roc_auc'] as const;
export const REGRESSION_METRICS = ['mae', 'rmse'] as const;

export const monitoringEnvSchema = z
  .object({
    MONITORING_PORT: port(3007),
    MONITORING_HOST: z.string().default('127.0.0.1'),
    /** Predictions per tumbling drift window, per model version. */
    MONITORING_WINDOW_SIZE: positiveInt(500),
    /** After a drift.detected (per model) or performance.degraded (per version), further ones wait this long. */
    MONITORING_COOLDOWN_S: z.coerce.number().nonnegative().default(300),
    /** Dataset drift when at least this share of the features drifted. */
    MONITORING_DATASET_DRIFT_SHARE: z.coerce.number().gt(0).max(1).default(0.5),
    /**
     * 0 (default): the reference comes from the version's training dataset (events) or from
     * PUT /models/:model/versions/:version/reference.
     * N > 0: a version without one learns it from its first N predictions.
     */
    MONITORING_REFERENCE_FROM_FIRST: z.coerce.number().int().nonnegative().default(0),
    /**
     * Rows of the training dataset (evenly spread) a deployed version's reference is built from.
     * Above 1,000 Evidently's large-reference tests apply (Wasserstein, Jensen-Shannon), as they
     * do for the whole training set in Evidently; 1,000 or fewer keeps KS / chi-squared / z.
     */
    MONITORING_REFERENCE_ROWS: positiveInt(10_000),
    /** Evaluated drift windows kept per model version (GET /models/:model/drift/history); older ones are deleted. */
    MONITORING_DRIFT_HISTORY_WINDOWS: positiveInt(10_000),
    /** Kafka consumer group prefix (one group per consumer: `<group>`, `<group>.labels`, ...). */
    MONITORING_GROUP: z.string().min(1).default('monitoring'),
    /** Prefix of the tables this monitor owns (own tables per service; tests use their own). */
    MONITORING_TABLE_PREFIX: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,39}$/, 'expected lower-case letters, digits and _, starting with a letter')
      .default('monitoring'),
    MONITORING_BODY_LIMIT: z.string().regex(/^\d+(kb|mb)$/, 'expected a size such as 512kb or 50mb').default('50mb'),
    /** Predictions kept (in memory) waiting for their label; the oldest beyond this are evicted. */
    MONITORING_LABEL_PENDING_MAX: positiveInt(100_000),
    /** A prediction waits this long for its label, then it is evicted (counted as unlabelled). */
    MONITORING_LABEL_TTL_S: positiveInt(86_400),
    /** Output holding the predicted class (our trainer: `label`); else the argmax of the probabilities. */
    MONITORING_LABEL_OUTPUT: z.string().min(1).default('label'),
    /** Output holding class probabilities (an array; a single number is P(positive class)). */
    MONITORING_PROBABILITY_OUTPUT: z.string().min(1).default('probabilities'),
    /** Output holding a regression prediction (our trainer: `predictions`). */
    MONITORING_PREDICTION_OUTPUT: z.string().min(1).default('predictions'),
    /** Binary ROC AUC: labels equal to this (as text) are the positive class (probability index 1). */
    MONITORING_POSITIVE_LABEL: z.string().min(1).default('1'),
    /** Bins of the fixed-bin score histogram behind the incremental ROC AUC. */
    MONITORING_AUC_BINS: z.coerce.number().int().min(10).max(100_000).default(1_000),
    MONITORING_CLASSIFICATION_METRIC: z.enum(CLASSIFICATION_METRICS).default('accuracy'),
    MONITORING_REGRESSION_METRIC: z.enum(REGRESSION_METRICS).default('rmse'),
    /** performance.degraded when the metric is worse than its baseline by more than this (absolute). */
    MONITORING_PERFORMANCE_TOLERANCE: z.coerce.number().nonnegative().default(0.05),
    /** Labels a version (and a live champion baseline) needs before its performance is judged. */
    MONITORING_PERFORMANCE_MIN_LABELS: positiveInt(50),
    /** Predictions by a canary version before its one canary.evaluated. */
    MONITORING_CANARY_MIN_PREDICTIONS: positiveInt(100),
    /** Labels canary and champion each need for a labels-based verdict. */
    MONITORING_CANARY_MIN_LABELS: positiveInt(50),
    /** label.observed events applied per database transaction (at most; 1 applies them one at a time). */
    MONITORING_LABEL_BATCH_MAX: z.coerce.number().int().positive().max(5_000).default(500),
    /** How long a label that arrives before its prediction (they travel on different topics) waits for it. */
    MONITORING_LABEL_EARLY_WAIT_S: z.coerce.number().nonnegative().default(60),
    /**
     * Once a canary has its predictions, how long the verdict waits for the labels (late by
     * nature) before it is decided on predictions alone.
     */
    MONITORING_CANARY_LABEL_WAIT_S: z.coerce.number().nonnegative().default(30),
    /** A canary worse than the champion by more than this (absolute, on the configured metric) is rolled back. */
    MONITORING_CANARY_TOLERANCE: share(0.05),
    /**
     * How sure the monitor must be that the canary is worse by more than the tolerance before it
     * rolls back: 0.95 rolls back an equally good canary at most 5% of the time. 0.5 compares the
     * point values alone.
     */
    MONITORING_CANARY_CONFIDENCE: z.coerce.number().min(0.5).lt(1).default(0.95),
    /** Canary prediction counts are written at most this often (and at shutdown). */
    MONITORING_STATE_FLUSH_MS: z.coerce.number().int().nonnegative().default(1_000),
  })
  .and(databaseEnvSchema)
  .and(apiTokenEnvSchema)
  .and(busEnvSchema);

export type MonitoringConfig = z.output<typeof monitoringEnvSchema>;

export function loadMonitoringConfig(env: NodeJS.ProcessEnv = process.env): MonitoringConfig {
  return loadConfig('monitoring', monitoringEnvSchema, withBusDefault({ DATABASE_URL: 'sqlite:.mlops/monitoring.db', ...env }));
}
