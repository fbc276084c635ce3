import { status as GrpcStatus, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { Counter, Histogram, type Registry } from 'prom-client';

/** gRPC latency buckets in seconds: 100 µs to 10 s (inference calls are often sub-millisecond). */
export const GRPC_LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

type GrpcLabel = 'grpc_service' | 'grpc_method' | 'grpc_code';

export interface GrpcMetrics {
  handled: Counter<GrpcLabel>;
  duration: Histogram<GrpcLabel>;
}

export function createGrpcMetrics(registry: Registry): GrpcMetrics {
  return {
    handled: new Counter({
      name: 'mlops_grpc_server_handled_total',
      help: 'gRPC calls completed on the server, by service, method and status code',
      labelNames: ['grpc_service', 'grpc_method', 'grpc_code'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'mlops_grpc_server_handling_seconds',
      help: 'gRPC server handling time in seconds, until the status was sent',
      labelNames: ['grpc_service', 'grpc_method', 'grpc_code'] as const,
      buckets: GRPC_LATENCY_BUCKETS,
      registers: [registry],
    }),
  };
}

/** `OK`, `INVALID_ARGUMENT`, ... from an error's numeric gRPC code (UNKNOWN without one). */
export function grpcCodeName(error: unknown): string {
  if (error === null || error === undefined) return GrpcStatus[GrpcStatus.OK];
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' && GrpcStatus[code] !== undefined ? GrpcStatus[code] : GrpcStatus[GrpcStatus.UNKNOWN];
}

/** `/inference.GRPCInferenceService/ModelInfer` -> service and method labels. */
function labelsOf(path: string): { grpc_service: string; grpc_method: string } {
  const [, service = 'unknown', method = 'unknown'] = path.split('/');
  return { grpc_service: service, grpc_method: method };
}

type AnyHandler = (call: never, callback?: never) => void;
type Callback = (error: unknown, ...rest: unknown[]) => void;
interface ObservableCall {
  once(event: 'finish' | 'cancelled', listener: () => void): unknown;
  once(event: 'error', listener: (error: unknown) => void): unknown;
}

/**
 * Wraps every handler of a service implementation so each call is counted and timed by its
 * final status: unary and client-streaming calls by the error passed to their callback,
 * server- and bidi-streaming calls by the stream ending (`OK`), failing (the error's code)
 * or being cancelled (`CANCELLED`). Pass the result to `server.addService(definition, ...)`.
 */
export function instrumentGrpcService<I extends UntypedServiceImplementation>(
  metrics: GrpcMetrics,
  definition: ServiceDefinition,
  implementation: I,
): I {
  const wrapped: UntypedServiceImplementation = { ...implementation };
  for (const [name, method] of Object.entries(definition)) {
    const handler = implementation[name] as unknown as AnyHandler | undefined;
    if (!handler) continue;
    const labels = labelsOf(method.path);
    const record = (stop: (labels: { grpc_code: string }) => number, error: unknown) => {
      const done = { ...labels, grpc_code: grpcCodeName(error) };
      metrics.handled.inc(done);
      stop(done);
    };
    if (!method.responseStream) {
      wrapped[name] = ((call: never, callback: Callback) => {
        const stop = metrics.duration.startTimer(labels);
        (handler as unknown as (call: never, callback: Callback) => void)(call, (error, ...rest) => {
          record(stop, error);
          callback(error, ...rest);
        });
      }) as never;
    } else {
      wrapped[name] = ((call: ObservableCall) => {
        const stop = metrics.duration.startTimer(labels);
        let recorded = false;
        const once = (error: unknown) => {
          if (recorded) return;
          recorded = true;
          record(stop, error);
        };
        call.once('error', (error) => once(error));
        call.once('cancelled', () => once({ code: GrpcStatus.CANCELLED }));
        call.once('finish', () => once(null));
        (handler as unknown as (call: ObservableCall) => void)(call);
      }) as never;
    }
  }
  return wrapped as I;
}
