import { z } from 'zod';
import { busEnvSchema, databaseEnvSchema, loadConfig, port, withBusDefault } from '@mlops/config';

export const trackingEnvSchema = z
  .object({
    /** MLflow's own default port, so `MLFLOW_TRACKING_URI=http://127.0.0.1:5000` just works. */
    TRACKING_PORT: port(5000),
    TRACKING_HOST: z.string().default('127.0.0.1'),
    /** Where proxied artifacts (`mlflow-artifacts:/...`) are stored on disk. */
    TRACKING_ARTIFACT_ROOT: z.string().min(1).default('.mlops/artifacts'),
    TRACKING_BODY_LIMIT: z.string().regex(/^\d+(kb|mb)$/, 'expected a size such as 512kb or 10mb').default('20mb'),
    INSTANCE_ID: z.string().min(1).optional(),
  })
  .and(databaseEnvSchema)
  .and(busEnvSchema);

export type TrackingConfig = z.output<typeof trackingEnvSchema>;

export function loadTrackingConfig(env: NodeJS.ProcessEnv = process.env): TrackingConfig {
  return loadConfig('tracking', trackingEnvSchema, withBusDefault({ DATABASE_URL: 'sqlite:.mlops/tracking.db', ...env }));
}
