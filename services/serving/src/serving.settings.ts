import type { GrpcSecurityEnv } from '@mlops/grpc';
import type { BatcherOptions } from './batcher';
import type { SessionSettings } from './model-repository';
import { deploymentGroup, replaysDeployments, type ModelSource, type ServingConfig } from './serving.config';

/** Serving's config, parsed once (serving.config.ts) and grouped by what uses it. */
export interface ServingSettings {
  /** The KServe v2 gRPC endpoint. */
  grpc: {
    host: string;
    /** 0: any free port. */
    port: number;
    /** Where grpc_service.proto is; found by walking up from the code when unset. */
    protoDir?: string;
    /** gRPC max receive message size; larger requests fail with RESOURCE_EXHAUSTED. */
    maxMessageBytes: number;
    /** Seconds a graceful shutdown waits for in-flight calls before cancelling them. */
    shutdownGraceS: number;
    /** TLS and the bearer token. */
    security: GrpcSecurityEnv;
  };
  /** SERVING_MODELS: loaded and warmed at start. */
  models: ModelSource[];
  /** Dynamic batching, for each model version. */
  batching: BatcherOptions;
  sessions: SessionSettings;
  /** prediction.logged */
  predictions: { sampleRate: number; capacity: number };
  /** deployment.requested, model.promoted, model.rolled_back */
  deployments: {
    /** Consumer group: the service's, or a worker's own (deploymentGroup). */
    group: string;
    /** A restarted worker reads the deployment topics from the beginning and reports none of what it replays. */
    replaying: boolean;
    /** Whether this process publishes deployment.completed for a success (a failure it always reports): of several workers, worker 0 only. */
    reportsSuccess: boolean;
    /** How long a blue-green deployment keeps the previous version warm for an instant rollback (SERVING_BLUE_GREEN_KEEP_S). */
    blueGreenKeepMs: number;
  };
  /** The HTTP server (v2 REST, GET /metrics, GET /health/live), when SERVING_HTTP_PORT (or its former name SERVING_METRICS_PORT) is set. */
  http?: { port: number; host: string };
  /** SERVING_WORKER_INDEX when this process is a worker of several. */
  workerIndex?: number;
}

/** Injection token of the ServingSettings. */
export const SERVING_SETTINGS = Symbol('ServingSettings');

export function servingSettings(config: ServingConfig): ServingSettings {
  return {
    grpc: {
      host: config.SERVING_GRPC_HOST,
      port: config.SERVING_GRPC_PORT,
      protoDir: config.SERVING_PROTO_DIR,
      maxMessageBytes: config.SERVING_MAX_MESSAGE_BYTES,
      shutdownGraceS: config.SERVING_SHUTDOWN_GRACE_S,
      security: {
        API_TOKEN: config.API_TOKEN,
        GRPC_TLS_CERT_FILE: config.GRPC_TLS_CERT_FILE,
        GRPC_TLS_KEY_FILE: config.GRPC_TLS_KEY_FILE,
        GRPC_TLS_CLIENT_CA_FILE: config.GRPC_TLS_CLIENT_CA_FILE,
      },
    },
    models: config.SERVING_MODELS,
    batching: { maxBatch: config.SERVING_MAX_BATCH, delayUs: config.SERVING_BATCH_DELAY_US },
    sessions: { intraOpThreads: config.SERVING_INTRA_OP_THREADS },
    predictions: { sampleRate: config.SERVING_LOG_SAMPLE_RATE, capacity: config.SERVING_LOG_BUFFER },
    deployments: {
      group: deploymentGroup(config),
      replaying: replaysDeployments(config),
      reportsSuccess: !config.SERVING_WORKER_INDEX,
      blueGreenKeepMs: config.SERVING_BLUE_GREEN_KEEP_S * 1000,
    },
    http: httpSettings(config),
    workerIndex: config.SERVING_WORKER_INDEX,
  };
}

function httpSettings(config: ServingConfig): ServingSettings['http'] {
  const port = config.SERVING_HTTP_PORT ?? config.SERVING_METRICS_PORT;
  if (port === undefined) return undefined;
  return { port, host: config.SERVING_HTTP_HOST ?? config.SERVING_METRICS_HOST ?? '127.0.0.1' };
}
