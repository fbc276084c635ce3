import { z } from 'zod';
import { busEnvSchema, loadConfig, port, withBusDefault } from '@mlops/config';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const monitoringEnvSchema = z
  .object({
    MONITORING_PORT: port(3007),
    MONITORING_HOST: z.string().default('127.0.0.1'),
    /** Predictions per tumbling drift window, per model version. */
    MONITORING_WINDOW_SIZE: positiveInt(500),
    /** After a drift.detected for a model, further drift events for it wait this long. */
    MONITORING_COOLDOWN_S: z.coerce.number().nonnegative().default(300),
    /** Dataset drift when at least this share of the features drifted. */
    MONITORING_DATASET_DRIFT_SHARE: z.coerce.number().gt(0).max(1).default(0.5),
    /**
     * 0 (default): the reference comes from PUT /models/:model/versions/:version/reference.
     * N > 0: a version without one learns it from its first N predictions.
     */
    MONITORING_REFERENCE_FROM_FIRST: z.coerce.number().int().nonnegative().default(0),
    /** Kafka consumer group for prediction.logged. */
    MONITORING_GROUP: z.string().min(1).default('monitoring'),
    MONITORING_BODY_LIMIT: z.string().regex(/^\d+(kb|mb)$/, 'expected a size such as 512kb or 50mb').default('50mb'),
  })
  .and(busEnvSchema);

export type MonitoringConfig = z.output<typeof monitoringEnvSchema>;

export function loadMonitoringConfig(env: NodeJS.ProcessEnv = process.env): MonitoringConfig {
  return loadConfig('monitoring', monitoringEnvSchema, withBusDefault(env));
}
