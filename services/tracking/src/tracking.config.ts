import { z } from 'zod';
import { apiTokenEnvSchema, busEnvSchema, databaseEnvSchema, loadConfig, port, withBusDefault } from '@mlops/config';

export const trackingEnvSchema = z
  .object({
    /** MLflow's own default port, so `MLFLOW_TRACKING_URI=http://127.0.0.1:5000` just works. */
    TRACKING_PORT: port(5000),
    TRACKING_HOST: z.string().default('127.0.0.1'),
    /** Where proxied artifacts (`mlflow-artifacts:/...`) are stored on disk. */
    TRACKING_ARTIFACT_ROOT: z.string().min(1).default('.mlops/artifacts'),
    TRACKING_BODY_LIMIT: z.string().regex(/^\d+(kb|mb)$/, 'expected a size such as 512kb or 10mb').default('20mb'),
    INSTANCE_ID: z.string().min(1).optional(),
    /**
     * HTTP worker processes sharing TRACKING_PORT (node:cluster). 1 = this process serves
     * alone. More use more cores for HTTP and JSON; SQLite writes still take turns on the file.
     */
    /**
     * SQLite only (WAL journal). NORMAL: a commit survives a crash of the process, the last
     * ones may be lost on power loss or an OS crash; FULL: every commit is fsynced, as in
     * SQLite's default rollback-journal mode (what MLflow's SQLite store runs with).
     */
    TRACKING_SQLITE_SYNCHRONOUS: z.enum(['NORMAL', 'FULL']).default('NORMAL'),
    TRACKING_WORKERS: z.coerce.number().int('expected a whole number of processes').min(1).max(64).default(1),
  })
  .and(databaseEnvSchema)
  .and(apiTokenEnvSchema)
  .and(busEnvSchema);

export type TrackingConfig = z.output<typeof trackingEnvSchema>;

export function loadTrackingConfig(env: NodeJS.ProcessEnv = process.env): TrackingConfig {
  return loadConfig('tracking', trackingEnvSchema, withBusDefault({ DATABASE_URL: 'sqlite:.mlops/tracking.db', ...env }));
}
