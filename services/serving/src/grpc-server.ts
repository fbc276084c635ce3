import * as grpc from '@grpc/grpc-js';
import { findProtoDir as findSharedProtoDir, loadProto, securedServerOptions, type GrpcSecurityEnv } from '@mlops/grpc';
import { instrumentGrpcService, type GrpcMetrics } from '@mlops/metrics';
import { injectTraceContext, withServerSpan } from '@mlops/telemetry';
import { decodeRequest, encodeResponse, requestKey, type InferRequestMessage } from './infer-request';
import type { ModelRepository } from './model-repository';
import type { PredictionLog } from './prediction-log';
import { InferError } from './tensors';
import type { Feeds } from './batcher';

export const PROTO_FILE = 'grpc_service.proto';

/** proto/ at the workspace root: found from src/ (tests) and from dist/ (production). */
export const findProtoDir = (start?: string): string => findSharedProtoDir(PROTO_FILE, 'SERVING_PROTO_DIR', start);

export function loadInferenceService(protoDir: string): grpc.ServiceDefinition {
  const pkg = loadProto(protoDir, PROTO_FILE) as unknown as {
    inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
  };
  return pkg.inference.GRPCInferenceService.service;
}

const STATUS: Record<InferError['code'], grpc.status> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  NOT_FOUND: grpc.status.NOT_FOUND,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
  INTERNAL: grpc.status.INTERNAL,
};

function toServiceError(error: unknown): Partial<grpc.ServiceError> {
  if (error instanceof InferError) return { code: STATUS[error.code], details: error.message };
  return { code: grpc.status.INTERNAL, details: (error as Error)?.message ?? String(error) };
}

/** Adds a leading batch dimension of 1 (for logging a model that does not batch). */
const asOneRow = (feeds: Feeds): Feeds =>
  Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, { ...t, shape: [1, ...t.shape] }]));

export interface ServerInfo {
  name: string;
  version: string;
  /** Ready once every configured model is loaded. */
  ready(): boolean;
}

/** The KServe v2 handlers (inference.GRPCInferenceService). */
export function inferenceHandlers(
  repository: ModelRepository,
  predictions: PredictionLog,
  info: ServerInfo,
): grpc.UntypedServiceImplementation {
  type Call<Req> = grpc.ServerUnaryCall<Req, unknown>;
  const unary =
    <Req>(handle: (request: Req) => unknown | Promise<unknown>, traced?: string): grpc.handleUnaryCall<Req, unknown> =>
    (call: Call<Req>, callback) => {
      Promise.resolve()
        .then(() => (traced ? withServerSpan(traced, traceCarrier(call.metadata), { 'rpc.system': 'grpc', 'rpc.method': traced }, async () => handle(call.request)) : handle(call.request)))
        .then(
          (response) => callback(null, response),
          (error) => callback(toServiceError(error)),
        );
    };

  return {
    ServerLive: unary(() => ({ live: true })),
    ServerReady: unary(() => ({ ready: info.ready() })),
    ModelReady: unary((r: { name: string; version: string }) => {
      try {
        repository.resolve(r.name, r.version);
        return { ready: true };
      } catch (error) {
        if (error instanceof InferError && error.code === 'NOT_FOUND') return { ready: false };
        throw error;
      }
    }),
    ServerMetadata: unary(() => ({ name: info.name, version: info.version, extensions: [] })),
    ModelMetadata: unary((r: { name: string; version: string }) => {
      const model = repository.resolve(r.name, r.version);
      return {
        name: model.name,
        versions: repository.versions(model.name).map(String),
        platform: model.platform,
        inputs: model.inputs,
        outputs: model.outputs,
      };
    }),
    ModelInfer: unary(async (request: InferRequestMessage) => {
      const started = performance.now();
      if (!request.model_name) throw new InferError('INVALID_ARGUMENT', 'model_name is required');
      const key = requestKey(request);
      const lease = repository.acquire(request.model_name, request.model_version, key);
      const { model, route } = lease;
      try {
        const decoded = decodeRequest(model, request);
        const results = await model.infer(decoded.feeds, decoded.rows);
        const response = encodeResponse(model, request, decoded, results, route);
        const latencyMs = performance.now() - started;
        const selected = Object.fromEntries(decoded.outputs.map((n) => [n, results[n]]));
        predictions.record(
          {
            model: model.name,
            version: model.version,
            requestId: request.id,
            inputs: model.batchable ? decoded.feeds : asOneRow(decoded.feeds),
            outputs: model.batchable ? selected : asOneRow(selected),
            latencyMs,
            traceparent: injectTraceContext({}).traceparent,
          },
          decoded.rows,
        );
        return response;
      } finally {
        lease.release();
      }
    }, 'inference.GRPCInferenceService/ModelInfer'),
  };
}

/** The caller's W3C trace context from gRPC metadata. */
function traceCarrier(metadata: grpc.Metadata): Record<string, string> {
  const carrier: Record<string, string> = {};
  for (const key of ['traceparent', 'tracestate']) {
    const value = metadata.get(key)[0];
    if (typeof value === 'string') carrier[key] = value;
  }
  return carrier;
}

/** Probes stay open when a bearer token is configured. */
const OPEN_METHODS = ['/inference.GRPCInferenceService/ServerLive', '/inference.GRPCInferenceService/ServerReady'];

export function createGrpcServer(
  config: GrpcSecurityEnv & { SERVING_MAX_MESSAGE_BYTES: number },
  service: grpc.ServiceDefinition,
  handlers: grpc.UntypedServiceImplementation,
  metrics?: GrpcMetrics,
): grpc.Server {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': config.SERVING_MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': -1,
    ...securedServerOptions(config, OPEN_METHODS),
  });
  server.addService(service, metrics ? instrumentGrpcService(metrics, service, handlers) : handlers);
  return server;
}
