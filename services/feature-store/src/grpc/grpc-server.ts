import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { FeatureStoreService, InvalidRequestError, UnknownViewError } from '../feature-store.service';
import type { Scalar } from '../views/feature-row';

export const PROTO_FILE = 'feature_store.proto';

/** proto/ at the workspace root: found from src/ (tests) and from dist/ (production). */
export function findProtoDir(start = __dirname): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'proto', PROTO_FILE))) return join(dir, 'proto');
    if (dirname(dir) === dir) throw new Error(`proto/${PROTO_FILE} not found above ${start}; set FEATURE_STORE_PROTO_DIR`);
  }
}

export const PROTO_LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

export function loadFeatureStoreService(protoDir: string): grpc.ServiceDefinition {
  const definition = protoLoader.loadSync(resolve(protoDir, PROTO_FILE), PROTO_LOADER_OPTIONS);
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    mlops: { featurestore: { v1: { FeatureStoreService: grpc.ServiceClientConstructor } } };
  };
  return pkg.mlops.featurestore.v1.FeatureStoreService.service;
}

function toValue(value: Scalar): Record<string, unknown> {
  if (value === null) return { null_value: true };
  if (typeof value === 'number') return { number_value: value };
  if (typeof value === 'boolean') return { bool_value: value };
  return { string_value: value };
}

function toServiceError(error: unknown): Partial<grpc.ServiceError> {
  if (error instanceof UnknownViewError) return { code: grpc.status.NOT_FOUND, details: error.message };
  if (error instanceof InvalidRequestError) return { code: grpc.status.INVALID_ARGUMENT, details: error.message };
  return { code: grpc.status.INTERNAL, details: (error as Error)?.message ?? String(error) };
}

interface GetOnlineFeaturesRequest {
  feature_view: string;
  entity_keys: string[];
  features: string[];
}

/** The mlops.featurestore.v1.FeatureStoreService handlers. */
export function featureStoreHandlers(service: FeatureStoreService): grpc.UntypedServiceImplementation {
  const getOnlineFeatures: grpc.handleUnaryCall<GetOnlineFeaturesRequest, unknown> = (call, callback) => {
    (async () => {
      const request = call.request;
      if (!request.feature_view) throw new InvalidRequestError('feature_view', 'a feature view name is required');
      const { view, names, results } = await service.onlineFeatures(request.feature_view, request.entity_keys ?? [], request.features ?? []);
      return {
        feature_view: view.name,
        feature_names: names,
        results: results.map((r) =>
          r.row
            ? {
                entity_key: r.entityKey,
                status: 'PRESENT',
                event_time: new Date(r.row.eventTimeMs).toISOString(),
                values: Object.fromEntries(Object.entries(r.row.values).map(([k, v]) => [k, toValue(v)])),
              }
            : { entity_key: r.entityKey, status: 'NOT_FOUND', values: {}, event_time: '' },
        ),
      };
    })().then(
      (response) => callback(null, response),
      (error) => callback(toServiceError(error)),
    );
  };
  return { GetOnlineFeatures: getOnlineFeatures };
}

export function bind(server: grpc.Server, host: string, port: number): Promise<number> {
  const address = host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((done, fail) =>
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? fail(error) : done(bound))),
  );
}
