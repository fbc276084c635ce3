import { z } from 'zod';
import { apiTokenEnvSchema, busEnvSchema, databaseEnvSchema, loadConfig, port, withBusDefault } from '@mlops/config';

export const ingestionEnvSchema = z
  .object({
    INGESTION_PORT: port(3001),
    INGESTION_HOST: z.string().default('127.0.0.1'),
    /** Records per HTTP batch; larger batches get 413. */
    INGESTION_MAX_BATCH: z.coerce.number().int().positive().default(10_000),
    INGESTION_BODY_LIMIT: z.string().regex(/^\d+(kb|mb)$/, 'expected a size such as 512kb or 10mb').default('10mb'),
    /** Kafka consumer group for raw.<source> topics. */
    INGESTION_GROUP: z.string().min(1).default('ingestion'),
    INSTANCE_ID: z.string().min(1).optional(),
  })
  .and(apiTokenEnvSchema)
  .and(databaseEnvSchema)
  .and(busEnvSchema);

export type IngestionConfig = z.output<typeof ingestionEnvSchema>;

export function loadIngestionConfig(env: NodeJS.ProcessEnv = process.env): IngestionConfig {
  return loadConfig('ingestion', ingestionEnvSchema, withBusDefault({ DATABASE_URL: 'sqlite:.mlops/ingestion.db', ...env }));
}
