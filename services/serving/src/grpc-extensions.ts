import type * as grpc from '@grpc/grpc-js';
import { InvalidInputError } from '@mlops/errors';
import type { BatcherOptions } from './batcher';
import { inferSpan, toServiceError } from './grpc-server';
import { encodeResponse, type InferRequestMessage } from './infer-request';
import type { InferenceService } from './inference.service';
import { modelConfigOf } from './model-config';
import type { ModelRepository } from './model-repository';
import type { ModelStatistics } from './model-statistics';
import { loadRequestOf, type RepositoryControl } from './repository-control.service';
import { statisticsReport } from './statistics-report';

const MODEL_STREAM_INFER = 'inference.GRPCInferenceService/ModelStreamInfer';

export interface ExtensionDeps {
  inference: InferenceService;
  repository: ModelRepository;
  statistics: ModelStatistics;
  control: RepositoryControl;
  batching: BatcherOptions;
}

/** A ModelRepositoryParameter as proto-loader gives it (oneofs: the chosen field's name). */
type RepositoryParameter = { parameter_choice?: string } & Record<string, unknown>;

/** `{ key: { string_param: 'x' } }` -> `{ key: 'x' }`; bytes_param (tritonclient's `files`) is refused by name. */
function plainParameters(parameters: Record<string, RepositoryParameter> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, parameter] of Object.entries(parameters ?? {})) {
    const choice = parameter.parameter_choice;
    if (choice === 'bytes_param') {
      throw InvalidInputError.of([{ field: key, message: 'model files cannot be uploaded here; give artifact_uri (a path or file:// URI the server can read)' }]);
    }
    if (choice) out[key] = parameter[choice];
  }
  return out;
}

/**
 * Triton's extensions of the KServe v2 gRPC service: ModelStreamInfer, ModelStatistics,
 * RepositoryIndex, RepositoryModelLoad/Unload and ModelConfig.
 */
export function extensionHandlers({ inference, repository, statistics, control, batching }: ExtensionDeps): grpc.UntypedServiceImplementation {
  const unary =
    <Req>(handle: (request: Req) => unknown): grpc.handleUnaryCall<Req, unknown> =>
    (call, callback) => {
      Promise.resolve()
        .then(() => handle(call.request))
        .then(
          (response) => callback(null, response),
          (error) => callback(toServiceError(error)),
        );
    };

  /**
   * Each request is answered on the stream as soon as it is done (not necessarily in order);
   * its response carries the request's id. A failed request is answered with error_message
   * and the stream goes on; the stream ends once the client has ended its side and every
   * answer is written.
   */
  const modelStreamInfer = (call: grpc.ServerDuplexStream<InferRequestMessage, unknown>) => {
    let pending = 0;
    let ended = false;
    const finish = () => {
      if (ended && pending === 0) call.end();
    };
    call.on('data', (request: InferRequestMessage) => {
      pending++;
      // One SERVER span per request on the stream, children of the caller's trace in the stream's metadata.
      const span = inferSpan(MODEL_STREAM_INFER, call.metadata);
      void inference
        .infer(request, (outcome) => encodeResponse(outcome.model, request, outcome.decoded, outcome.results, outcome.route, outcome.predictionIds), span.traceparent)
        .then(
          (response) => {
            span.end();
            return { error_message: '', infer_response: response };
          },
          (error: unknown) => {
            span.end(error);
            return {
              error_message: toServiceError(error).details ?? String(error),
              infer_response: { model_name: request.model_name, model_version: request.model_version, id: request.id },
            };
          },
        )
        .then((message) => {
          if (!call.cancelled) call.write(message);
          pending--;
          finish();
        });
    });
    call.on('end', () => {
      ended = true;
      finish();
    });
  };

  return {
    ModelStreamInfer: modelStreamInfer as grpc.handleBidiStreamingCall<unknown, unknown>,
    ModelConfig: unary((r: { name: string; version: string }) => ({ config: modelConfigOf(repository.resolve(r.name, r.version), batching) })),
    ModelStatistics: unary((r: { name: string; version: string }) => statisticsReport(repository, statistics, r.name, r.version)),
    RepositoryIndex: unary((r: { ready: boolean }) => ({ models: control.index(r.ready) })),
    RepositoryModelLoad: unary(async (r: { model_name: string; parameters?: Record<string, RepositoryParameter> }) => {
      await control.load(r.model_name, loadRequestOf(plainParameters(r.parameters)));
      return {};
    }),
    RepositoryModelUnload: unary((r: { model_name: string }) => {
      control.unload(r.model_name);
      return {};
    }),
  };
}
