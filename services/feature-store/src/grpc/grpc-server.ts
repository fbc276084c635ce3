import * as grpc from '@grpc/grpc-js';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { bindServer, findProtoDir as findSharedProtoDir, grpcStatusOf, loadProto, securedServerOptions, serverCredentials } from '@mlops/grpc';
import { InvalidRequestError } from '../feature-store.errors';
import { FeatureStoreService, type OnlineResult } from '../feature-store.service';
import { FEATURE_STORE_SETTINGS, type FeatureStoreSettings } from '../feature-store.settings';
import { FeatureStoreMetrics } from '../metrics';
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

function toEntityFeatures(result: OnlineResult): Record<string, unknown> {
  const { entityKey, row } = result;
  if (!row) return { entity_key: entityKey, status: 'NOT_FOUND', values: {}, event_time: '' };
  const values: Record<string, unknown> = {};
  for (const name in row.values) values[name] = toValue(row.values[name]);
  return { entity_key: entityKey, status: 'PRESENT', event_time: new Date(row.eventTimeMs).toISOString(), values };
}

interface GetOnlineFeaturesRequest {
  feature_view: string;
  entity_keys: string[];
  features: string[];
}

/** The mlops.featurestore.v1.FeatureStoreService handlers. */
export function featureStoreHandlers(service: FeatureStoreService, metrics: FeatureStoreMetrics = service.metrics): grpc.UntypedServiceImplementation {
  // The metric children of each status code, bound once: no label hashing per call.
  const byCode = new Map<grpc.status, { requests: { inc(): void }; latency: { observe(seconds: number): void } }>();
  const observe = (startedMs: number, code: grpc.status) => {
    let bound = byCode.get(code);
    if (!bound) {
      const labels = { code: grpc.status[code] };
      bound = { requests: metrics.onlineRequests.labels(labels), latency: metrics.onlineLatency.labels(labels) };
      byCode.set(code, bound);
    }
    bound.requests.inc();
    bound.latency.observe((performance.now() - startedMs) / 1e3);
  };
  const present = metrics.onlineEntities.labels({ status: 'present' });
  const notFound = metrics.onlineEntities.labels({ status: 'not_found' });
  const fail = (startedMs: number, error: unknown, callback: grpc.sendUnaryData<unknown>) => {
    const serviceError = grpcStatusOf(error);
    observe(startedMs, serviceError.code);
    callback(serviceError);
  };

  const getOnlineFeatures: grpc.handleUnaryCall<GetOnlineFeaturesRequest, unknown> = (call, callback) => {
    const started = performance.now();
    const request = call.request;
    if (!request.feature_view) return fail(started, new InvalidRequestError('feature_view', 'a feature view name is required'), callback);
    service.onlineFeatures(request.feature_view, request.entity_keys ?? [], request.features ?? []).then(
      ({ view, names, results }) => {
        let found = 0;
        const entities = new Array<Record<string, unknown>>(results.length);
        try {
          for (let i = 0; i < results.length; i++) {
            if (results[i].row) found++;
            entities[i] = toEntityFeatures(results[i]);
          }
        } catch (error) {
          return fail(started, error, callback);
        }
        present.inc(found);
        notFound.inc(results.length - found);
        observe(started, grpc.status.OK);
        callback(null, { feature_view: view.name, feature_names: names, results: entities });
      },
      (error: unknown) => fail(started, error, callback),
    );
  };
  return { GetOnlineFeatures: getOnlineFeatures };
}

/**
 * The gRPC online API on grpc-js itself (not a Nest microservice). startFeatureStore binds
 * it before HTTP listens; it shuts down with the app.
 */
@Injectable()
export class FeatureStoreGrpcServer implements OnModuleDestroy {
  private server?: grpc.Server;

  constructor(
    private readonly store: FeatureStoreService,
    private readonly metrics: FeatureStoreMetrics,
    @Inject(FEATURE_STORE_SETTINGS) private readonly settings: Pick<FeatureStoreSettings, 'grpc'>,
  ) {}

  /** Binds host:port (port 0: any free one); resolves with host:bound port. */
  async listen(): Promise<string> {
    const { host, port, maxMessageBytes, protoDir, security } = this.settings.grpc;
    this.server = new grpc.Server({ 'grpc.max_receive_message_length': maxMessageBytes, ...securedServerOptions(security) });
    this.server.addService(loadFeatureStoreService(protoDir ?? findProtoDir()), featureStoreHandlers(this.store, this.metrics));
    const bound = await bindServer(this.server, host, port, serverCredentials(security));
    return `${host}:${bound}`;
  }

  onModuleDestroy(): Promise<void> {
    const server = this.server;
    return new Promise<void>((done) => (server ? server.tryShutdown(() => done()) : done()));
  }
}
