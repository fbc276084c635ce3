import * as grpc from '@grpc/grpc-js';
import { findProtoDir as findSharedProtoDir, grpcStatusOf, loadProto, securedServerOptions, type GrpcSecurityEnv } from '@mlops/grpc';
import { DomainError } from '@mlops/errors';
import { instrumentGrpcService, type GrpcMetrics } from '@mlops/metrics';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { extractTraceContext, injectTraceContext } from '@mlops/telemetry';
import { encodeResponse, type InferRequestMessage } from './infer-request';
import type { InferenceService } from './inference.service';
import { ModelNotFoundError, type ModelRepository } from './model-repository';
import { inferRequestDeserializer } from './typed-contents';

export const PROTO_FILE = 'grpc_service.proto';

/** proto/ at the workspace root: found from src/ (tests) and from dist/ (production). */
export const findProtoDir = (start?: string): string => findSharedProtoDir(PROTO_FILE, 'SERVING_PROTO_DIR', start);

export function loadInferenceService(protoDir: string): grpc.ServiceDefinition {
  const pkg = loadProto(protoDir, PROTO_FILE) as unknown as {
    inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
  };
  const service = pkg.inference.GRPCInferenceService.service;
  const deserialize = inferRequestDeserializer(protoDir, PROTO_FILE);
  return {
    ...service,
    ModelInfer: { ...service.ModelInfer, requestDeserialize: deserialize },
    ModelStreamInfer: { ...service.ModelStreamInfer, requestDeserialize: deserialize },
  };
}

/**
 * The status a failed call answers with: a domain error (InferError, ModelNotFoundError) by its
 * kind through grpcStatusOf, the one place kinds become gRPC codes; anything else (onnxruntime,
 * a bug) INTERNAL with its message.
 */
export function toServiceError(error: unknown): Partial<grpc.ServiceError> {
  if (error instanceof DomainError) return grpcStatusOf(error);
  return { code: grpc.status.INTERNAL, details: (error as Error)?.message ?? String(error) };
}

/** The protocol extensions this server implements, as ServerMetadata (gRPC and REST) lists them. */
export const SERVER_EXTENSIONS = ['binary_tensor_data', 'model_repository', 'statistics', 'model_configuration'] as const;

export interface ServerInfo {
  name: string;
  version: string;
  /** Ready once every configured model is loaded. */
  ready(): boolean;
}

/** The KServe v2 handlers (inference.GRPCInferenceService). */
export function inferenceHandlers(inference: InferenceService, repository: ModelRepository, info: ServerInfo): grpc.UntypedServiceImplementation {
  type Call<Req> = grpc.ServerUnaryCall<Req, unknown>;
  const unary =
    <Req>(handle: (request: Req) => unknown | Promise<unknown>): grpc.handleUnaryCall<Req, unknown> =>
    (call: Call<Req>, callback) => {
      Promise.resolve()
        .then(() => handle(call.request))
        .then(
          (response) => callback(null, response),
          (error) => callback(toServiceError(error)),
        );
    };

  const modelInfer: grpc.handleUnaryCall<InferRequestMessage, unknown> = (call, callback) => {
    const span = inferSpan(MODEL_INFER, call.metadata);
    const request = call.request;
    inference.infer(request, (outcome) => encodeResponse(outcome.model, request, outcome.decoded, outcome.results, outcome.route, outcome.predictionIds), span.traceparent).then(
      (response) => {
        span.end();
        callback(null, response);
      },
      (error: unknown) => {
        span.end(error);
        callback(toServiceError(error));
      },
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
        if (error instanceof ModelNotFoundError) return { ready: false };
        throw error;
      }
    }),
    ServerMetadata: unary(() => ({ name: info.name, version: info.version, extensions: [...SERVER_EXTENSIONS] })),
    ModelMetadata: unary((r: { name: string; version: string }) => {
      const model = repository.resolve(r.name, r.version);
      return {
        name: model.name,
        versions: repository.versions(model.name).map(String),
        platform: model.platform,
        inputs: model.inputs,
        outputs: model.outputs,
        // An InferParameter holds no list: the names as a JSON array (proto/grpc_service.proto).
        parameters: model.naming.names ? { feature_names: { string_param: JSON.stringify(model.naming.names) } } : {},
      };
    }),
    ModelInfer: modelInfer as grpc.handleUnaryCall<unknown, unknown>,
  };
}

const MODEL_INFER = 'inference.GRPCInferenceService/ModelInfer';
/** Span attributes by method, made once. */
const SPAN_ATTRIBUTES = new Map<string, Record<string, string>>();
/** The tracer @mlops/telemetry's spans come from. */
const tracer = () => trace.getTracer('@mlops/bus');

/**
 * The SERVER span of one inference (continuing the caller's trace from the call's metadata),
 * with its traceparent for prediction.logged. It is started and ended here rather than made
 * the active context around the handler, which costs an async-context frame and two more
 * promise hops per call: nothing inside reads the active context, and prediction.logged gets
 * the span's traceparent explicitly.
 */
export function inferSpan(method: string, metadata: grpc.Metadata): { traceparent: string | undefined; end(error?: unknown): void } {
  const parent = extractTraceContext(traceCarrier(metadata));
  let attributes = SPAN_ATTRIBUTES.get(method);
  if (!attributes) SPAN_ATTRIBUTES.set(method, (attributes = { 'rpc.system': 'grpc', 'rpc.method': method }));
  const span = tracer().startSpan(method, { kind: SpanKind.SERVER, attributes }, parent);
  return {
    traceparent: injectTraceContext({}, trace.setSpan(parent, span)).traceparent,
    end(error?: unknown) {
      if (error !== undefined) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
      }
      span.end();
    },
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
  settings: { maxMessageBytes: number; security: GrpcSecurityEnv },
  service: grpc.ServiceDefinition,
  handlers: grpc.UntypedServiceImplementation,
  metrics?: GrpcMetrics,
): grpc.Server {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': settings.maxMessageBytes,
    'grpc.max_send_message_length': -1,
    // channelz (grpc-js's per-call introspection counters) is not served here; off, it costs nothing per call.
    'grpc.enable_channelz': 0,
    ...securedServerOptions(settings.security, OPEN_METHODS),
  });
  server.addService(service, metrics ? instrumentGrpcService(metrics, service, handlers) : handlers);
  return server;
}
