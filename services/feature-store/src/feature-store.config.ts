import { z } from 'zod';
import { busEnvSchema, databaseEnvSchema, loadConfig, port, withBusDefault } from '@mlops/config';
import { grpcSecurityEnvSchema } from '@mlops/grpc';

/** ONLINE_STORE=memory (embedded) or redis (distributed; REDIS_URL required only then). */
const onlineStoreEnvSchema = z.discriminatedUnion('ONLINE_STORE', [
  z.object({ ONLINE_STORE: z.literal('memory') }),
  z.object({
    ONLINE_STORE: z.literal('redis'),
    REDIS_URL: z
      .string({ error: 'required when ONLINE_STORE=redis (redis://host:port)' })
      .regex(/^rediss?:\/\//, 'expected redis://host:port or rediss://host:port'),
    /** Key prefix of the online store in Redis. */
    REDIS_KEY_PREFIX: z.string().min(1).default('fs'),
  }),
]);

export const featureStoreEnvSchema = z
  .object({
    FEATURE_STORE_HTTP_PORT: port(3002),
    FEATURE_STORE_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
    FEATURE_STORE_GRPC_PORT: port(8002),
    FEATURE_STORE_GRPC_HOST: z.string().min(1).default('127.0.0.1'),
    /** YAML file with the feature views; the bundled example when unset. */
    FEATURE_VIEWS_FILE: z.string().min(1).optional(),
    /** Where dataset snapshots (Arrow file + manifest) are written. */
    FEATURE_STORE_ARTIFACT_ROOT: z.string().min(1).default('.mlops/datasets'),
    /** Consumer group for data.validated and retrain.requested. */
    FEATURE_STORE_GROUP: z.string().min(1).default('feature-store'),
    /** Where feature_store.proto is; found by walking up from the code when unset. */
    FEATURE_STORE_PROTO_DIR: z.string().min(1).optional(),
    /** gRPC max receive message size; larger GetOnlineFeatures requests fail with RESOURCE_EXHAUSTED. */
    FEATURE_STORE_GRPC_MAX_MESSAGE_BYTES: z.coerce.number().int().positive('expected a positive number of bytes').default(4 * 1024 * 1024),
    FEATURE_STORE_BODY_LIMIT: z.string().regex(/^\d+(kb|mb)$/, 'expected a size such as 512kb or 10mb').default('10mb'),
    /** Entities whose window state (incremental aggregations) is kept in memory; the least recently used are rebuilt from history. */
    FEATURE_STORE_WINDOW_CACHE_ENTITIES: z.coerce.number({ error: 'expected a positive integer' }).int().positive().default(100_000),
    /**
     * `all`: consumes data.validated and retrain.requested and serves reads. `serve`: serves
     * reads (gRPC and HTTP) only, from the online store other instances write, so reads can be
     * scaled, and kept off the cores that apply events, on their own.
     */
    FEATURE_STORE_ROLE: z.enum(['all', 'serve'], { error: 'expected all or serve' }).default('all'),
    INSTANCE_ID: z.string().min(1).optional(),
  })
  .and(onlineStoreEnvSchema)
  .and(databaseEnvSchema)
  .and(grpcSecurityEnvSchema)
  .and(busEnvSchema)
  .superRefine((config, ctx) => {
    if (config.FEATURE_STORE_ROLE === 'serve' && config.ONLINE_STORE !== 'redis') {
      ctx.addIssue({
        code: 'custom',
        path: ['FEATURE_STORE_ROLE'],
        message: 'serve reads the online store that other instances write: it needs ONLINE_STORE=redis',
      });
    }
  });

export type FeatureStoreConfig = z.output<typeof featureStoreEnvSchema>;

export function loadFeatureStoreConfig(env: NodeJS.ProcessEnv = process.env): FeatureStoreConfig {
  return loadConfig(
    'feature-store',
    featureStoreEnvSchema,
    withBusDefault({ DATABASE_URL: 'sqlite:.mlops/feature-store.db', ...env, ONLINE_STORE: env.ONLINE_STORE ?? 'memory' }),
  );
}
