import { z } from 'zod';
import { busEnvSchema, loadConfig, port, withBusDefault } from '@mlops/config';
import { grpcSecurityEnvSchema } from '@mlops/grpc';

export interface ModelSource {
  name: string;
  version: number;
  path: string;
}

const MODEL_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,199}$/;

/**
 * SERVING_MODELS: `name=path` (version 1) or `name:version=path`, comma-separated, e.g.
 * `churn=/models/churn.onnx,churn:2=/models/churn-v2.onnx,fraud=/m/fraud.onnx`.
 */
export const modelListSchema = z
  .string()
  .default('')
  .transform((value, ctx) => {
    const models: ModelSource[] = [];
    for (const item of value.split(',').map((s) => s.trim()).filter(Boolean)) {
      const match = /^([^=:]+)(?::(\d+))?=(.+)$/.exec(item);
      const name = match?.[1].trim() ?? '';
      const version = match?.[2] === undefined ? 1 : Number(match[2]);
      if (!match || !MODEL_NAME.test(name) || version < 1) {
        ctx.addIssue({ code: 'custom', message: `'${item}' is not name=path or name:version=path (version >= 1, name of letters, digits, _ . -)` });
        continue;
      }
      if (models.some((m) => m.name === name && m.version === version)) {
        ctx.addIssue({ code: 'custom', message: `model '${name}' version ${version} is listed twice` });
        continue;
      }
      models.push({ name, version, path: match[3].trim() });
    }
    return models;
  });

export const servingEnvSchema = z
  .object({
    SERVING_GRPC_HOST: z.string().min(1).default('127.0.0.1'),
    SERVING_GRPC_PORT: port(8001),
    SERVING_MODELS: modelListSchema,
    /** Triton's max_queue_delay_microseconds: how long a request waits for others to batch with. */
    SERVING_BATCH_DELAY_US: z.coerce.number().int().min(0, 'expected microseconds >= 0').max(1_000_000).default(500),
    /**
     * onnxruntime intra-op threads per session. 1: each run stays on the thread that calls it
     * (onnxruntime-node runs sessions on the event-loop thread), no pool threads spinning
     * between runs. 0: onnxruntime's default, a pool of one thread per core (helps only models
     * whose single run is large enough to split).
     */
    SERVING_INTRA_OP_THREADS: z.coerce.number().int().min(0, 'expected a thread count >= 0 (0: onnxruntime default)').max(256).default(1),
    /** Most rows in one batched run. */
    SERVING_MAX_BATCH: z.coerce.number().int().positive('expected a positive number of rows').default(64),
    /** gRPC max receive message size; larger requests fail with RESOURCE_EXHAUSTED. */
    SERVING_MAX_MESSAGE_BYTES: z.coerce.number().int().positive('expected a positive number of bytes').default(4 * 1024 * 1024),
    /** Share of predicted rows published as prediction.logged, 0..1. */
    SERVING_LOG_SAMPLE_RATE: z.coerce.number().min(0, 'expected a share between 0 and 1').max(1, 'expected a share between 0 and 1').default(1),
    /** Most prediction rows waiting to be published; more are dropped and counted. */
    SERVING_LOG_BUFFER: z.coerce.number().int().positive().default(10_000),
    /** Consumer group for deployment.requested (a worker of several uses `<group>-worker-<index>`). */
    SERVING_GROUP: z.string().min(1).default('serving'),
    /** Worker processes sharing the gRPC port (node:cluster); 1 = no primary, the process serves itself. */
    SERVING_WORKERS: z.coerce.number().int().min(1, 'expected at least 1 worker process').max(64, 'expected at most 64 worker processes').default(1),
    /** Set by the primary for each worker it forks; not meant to be set by hand. */
    SERVING_WORKER_INDEX: z.coerce.number().int().min(0).optional(),
    /** Set by the primary: how many times this worker index was restarted (0 = first start). */
    SERVING_WORKER_RESTARTS: z.coerce.number().int().min(0).default(0),
    /** Where grpc_service.proto is; found by walking up from the code when unset. */
    SERVING_PROTO_DIR: z.string().min(1).optional(),
    /**
     * Port of serving's HTTP server: the KServe v2 REST protocol (/v2/...), the Prometheus scrape
     * (GET /metrics) and liveness (GET /health/live); unset: no HTTP server.
     */
    SERVING_HTTP_PORT: z.coerce.number().int().min(0, 'expected a port number').max(65535, 'expected a port number').optional(),
    /** Bind address of the HTTP server; unset: SERVING_METRICS_HOST, else 127.0.0.1. */
    SERVING_HTTP_HOST: z.string().min(1).optional(),
    /** The former name of SERVING_HTTP_PORT (when only metrics were served over HTTP); read when SERVING_HTTP_PORT is unset. */
    SERVING_METRICS_PORT: z.coerce.number().int().min(0, 'expected a port number').max(65535, 'expected a port number').optional(),
    /** The former name of SERVING_HTTP_HOST. */
    SERVING_METRICS_HOST: z.string().min(1).optional(),
    /** Seconds graceful shutdown waits for in-flight requests before cancelling them. */
    SERVING_SHUTDOWN_GRACE_S: z.coerce.number().positive().default(10),
    /** Seconds a blue-green deployment keeps the previous version loaded (warm) for an instant rollback, then unloads it. */
    SERVING_BLUE_GREEN_KEEP_S: z.coerce.number().nonnegative('expected seconds, 0 or more').default(600),
    INSTANCE_ID: z.string().min(1).optional(),
  })
  .and(grpcSecurityEnvSchema)
  .and(busEnvSchema);

export type ServingConfig = z.output<typeof servingEnvSchema>;

type WorkerFields = Pick<ServingConfig, 'SERVING_GROUP' | 'SERVING_WORKER_INDEX' | 'SERVING_WORKER_RESTARTS'>;

/**
 * The consumer group for deployment events. Workers of one primary each need every
 * deployment.requested (each holds its own copy of the models), so each gets its own group.
 * A restarted worker gets a new one (see replaysDeployments).
 */
export function deploymentGroup(config: WorkerFields): string {
  const index = config.SERVING_WORKER_INDEX;
  if (index === undefined) return config.SERVING_GROUP;
  const restart = config.SERVING_WORKER_RESTARTS > 0 ? `-restart-${config.SERVING_WORKER_RESTARTS}` : '';
  return `${config.SERVING_GROUP}-worker-${index}${restart}`;
}

/**
 * A restarted worker starts from SERVING_MODELS like any worker, while its siblings have
 * applied the deployments since: it reads the deployment topics from the beginning to reach
 * the same routes (reporting none of what it replays).
 */
export const replaysDeployments = (config: WorkerFields): boolean =>
  config.SERVING_WORKER_INDEX !== undefined && config.SERVING_WORKER_RESTARTS > 0;

export function loadServingConfig(env: NodeJS.ProcessEnv = process.env): ServingConfig {
  return loadConfig('serving', servingEnvSchema, withBusDefault(env));
}
