import * as grpc from '@grpc/grpc-js';
import { findProtoDir as findSharedProtoDir, loadProto } from '@mlops/grpc';
import { FeatureStoreService, InvalidRequestError, UnknownViewError } from '../feature-store.service';
import type { FeatureStoreMetrics } from '../metrics';
import type { Scalar } from '../views/feature-row';

export const PROTO_FILE = 'feature_store.proto';

/** proto/ at the workspace root: found from src/ (tests) and from dist/ (production). */
export const findProtoDir = (start?: string): string => findSharedProtoDir(PROTO_FILE, 'FEATURE_STORE_PROTO_DIR', start);

export function loadFeatureStoreService(protoDir: string): grpc.ServiceDefinition {
  const pkg = loadProto(protoDir, PROTO_FILE) as unknown as {
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
export function featureStoreHandlers(service: FeatureStoreService, metrics: FeatureStoreMetrics = service.metrics): grpc.UntypedServiceImplementation {
  const observe = (started: bigint, code: grpc.status) => {
    const name = grpc.status[code];
    metrics.onlineRequests.inc({ code: name });
    metrics.onlineLatency.observe({ code: name }, Number(process.hrtime.bigint() - started) / 1e9);
  };
  const getOnlineFeatures: grpc.handleUnaryCall<GetOnlineFeaturesRequest, unknown> = (call, callback) => {
    const started = process.hrtime.bigint();
    (async () => {
      const request = call.request;
      if (!request.feature_view) throw new InvalidRequestError('feature_view', 'a feature view name is required');
      const { view, names, results } = await service.onlineFeatures(request.feature_view, request.entity_keys ?? [], request.features ?? []);
      let present = 0;
      for (const r of results) if (r.row) present++;
      metrics.onlineEntities.inc({ status: 'present' }, present);
      metrics.onlineEntities.inc({ status: 'not_found' }, results.length - present);
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
      (response) => {
        observe(started, grpc.status.OK);
        callback(null, response);
      },
      (error) => {
        const serviceError = toServiceError(error);
        observe(started, serviceError.code ?? grpc.status.INTERNAL);
        callback(serviceError);
      },
    );
  };
  return { GetOnlineFeatures: getOnlineFeatures };
}

