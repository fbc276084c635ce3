import * as grpc from '@grpc/grpc-js';
import { Logger, Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createEventBus, type EventBus, type InProcessTransport, type Subscription } from '@mlops/bus';
import { openDataSource } from '@mlops/persistence';
import type { FeatureStoreConfig } from './feature-store.config';
import { FeatureStoreService, SERVICE, TABLE_PREFIX } from './feature-store.service';
import { bindServer, securedServerOptions, serverCredentials } from '@mlops/grpc';
import { ApiErrorFilter, configureHttpApp } from '@mlops/http';
import { featureStoreHandlers, findProtoDir, loadFeatureStoreService } from './grpc/grpc-server';
import { FeatureStoreController } from './http/feature-store.controller';
import { featureStoreErrors } from './http/http-errors';
import { FeatureStoreMetrics } from './metrics';
import { DATA_SOURCE, EVENT_BUS, FEATURE_STORE_SERVICE } from './http/tokens';
import { Materializer } from './materialize/materializer';
import { CreateFeatureStore1763900000200 } from './migrations/1763900000200-create-feature-store';
import { DatasetEntity, FeatureRowEntity } from './offline/feature-row.entity';
import { OfflineStore } from './offline/offline-store';
import { MemoryOnlineStore } from './online/memory-online-store';
import type { OnlineStore } from './online/online-store';
import { RedisOnlineStore } from './online/redis-online-store';
import { findExampleViewsFile, loadFeatureViews } from './views/feature-view';

export interface FeatureStoreApp {
  app: INestApplication;
  service: FeatureStoreService;
  bus: EventBus;
  /** The bound HTTP address, e.g. http://127.0.0.1:3002 */
  url: string;
  /** host:port of the gRPC server */
  grpcAddress: string;
  close(): Promise<void>;
}

@Module({})
class FeatureStoreModule {
  static with(providers: { service: FeatureStoreService; dataSource: unknown; bus: EventBus }): DynamicModule {
    return {
      module: FeatureStoreModule,
      controllers: [FeatureStoreController],
      providers: [
        { provide: FEATURE_STORE_SERVICE, useValue: providers.service },
        { provide: DATA_SOURCE, useValue: providers.dataSource },
        { provide: EVENT_BUS, useValue: providers.bus },
      ],
    };
  }
}

async function openOnlineStore(config: FeatureStoreConfig): Promise<OnlineStore> {
  if (config.ONLINE_STORE === 'memory') return new MemoryOnlineStore();
  return new RedisOnlineStore(config.REDIS_URL, config.REDIS_KEY_PREFIX).connect();
}

/**
 * Wires the feature store from validated config: feature views (YAML), database (offline
 * history, datasets), online store, bus consumers (data.validated, retrain.requested), the
 * HTTP dataset API and the gRPC online API. Used by main.ts, the embedded runner and tests.
 */
export async function startFeatureStore(
  config: FeatureStoreConfig,
  options: { inProcess?: InProcessTransport; logger?: boolean } = {},
): Promise<FeatureStoreApp> {
  const log = new Logger(SERVICE);
  const quiet = options.logger === false;
  const logger = quiet ? { log: () => undefined, warn: () => undefined, error: () => undefined } : { log: (m: string) => log.log(m), warn: (m: string) => log.warn(m), error: (m: string) => log.error(m) };
  const viewsFile = config.FEATURE_VIEWS_FILE ?? findExampleViewsFile();
  const views = loadFeatureViews(viewsFile);

  const dataSource = await openDataSource({
    service: TABLE_PREFIX,
    url: config.DATABASE_URL,
    entities: [FeatureRowEntity, DatasetEntity],
    migrations: [CreateFeatureStore1763900000200],
  });
  const cleanup: (() => Promise<unknown>)[] = [() => dataSource.destroy()];
  try {
    const online = await openOnlineStore(config);
    cleanup.unshift(() => online.close());
    const bus = createEventBus(config, {
      service: SERVICE,
      transactional: true,
      instanceId: config.INSTANCE_ID,
      inProcess: options.inProcess,
      logger,
    });
    cleanup.unshift(() => bus.close());
    const offline = new OfflineStore(dataSource, { windowCacheEntities: config.FEATURE_STORE_WINDOW_CACHE_ENTITIES });
    const metrics = new FeatureStoreMetrics(!options.inProcess);
    const service = new FeatureStoreService(
      views,
      dataSource,
      offline,
      online,
      new Materializer(dataSource, offline, config.FEATURE_STORE_ARTIFACT_ROOT),
      logger,
      metrics,
    );

    const subscriptions: Subscription[] = [];
    if (config.FEATURE_STORE_ROLE === 'all') {
      subscriptions.push(
        await bus.subscribeEvents({
          group: config.FEATURE_STORE_GROUP,
          types: ['data.validated'],
          fromBeginning: true,
          handle: (event) => service.applyValidated(event),
        }),
        await bus.subscribeEvents({
          group: `${config.FEATURE_STORE_GROUP}.retrain`,
          types: ['retrain.requested'],
          fromBeginning: true,
          handle: async (event, ctx) => {
            const materialized = await service.onRetrainRequested(event);
            if (materialized) ctx.publish(materialized);
          },
        }),
      );
    }
    cleanup.unshift(() => Promise.all(subscriptions.map((s) => s.stop())));

    const server = new grpc.Server({ 'grpc.max_receive_message_length': config.FEATURE_STORE_GRPC_MAX_MESSAGE_BYTES, ...securedServerOptions(config) });
    server.addService(loadFeatureStoreService(config.FEATURE_STORE_PROTO_DIR ?? findProtoDir()), featureStoreHandlers(service, metrics));
    cleanup.unshift(() => new Promise<void>((done) => server.tryShutdown(() => done())));
    const grpcPort = await bindServer(server, config.FEATURE_STORE_GRPC_HOST, config.FEATURE_STORE_GRPC_PORT, serverCredentials(config));
    const grpcAddress = `${config.FEATURE_STORE_GRPC_HOST}:${grpcPort}`;

    const app = await NestFactory.create<NestExpressApplication>(FeatureStoreModule.with({ service, dataSource, bus }), {
      logger: quiet ? false : ['log', 'warn', 'error'],
    });
    configureHttpApp(app, { service: 'feature-store', filter: new ApiErrorFilter('feature-store', featureStoreErrors), apiToken: config.API_TOKEN, metrics: metrics.registry });
    app.useBodyParser('json', { limit: config.FEATURE_STORE_BODY_LIMIT });
    cleanup.unshift(() => app.close());
    await app.listen(config.FEATURE_STORE_HTTP_PORT, config.FEATURE_STORE_HTTP_HOST);
    const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    logger.log(
      `feature store: HTTP ${url}, gRPC ${grpcAddress} (views: ${views.map((v) => v.name).join(', ')} from ${viewsFile}; ` +
        `bus: ${bus.transport.kind}, database: ${config.DATABASE_URL.split(':')[0]}, online store: ${online.kind}; ` +
        `role: ${config.FEATURE_STORE_ROLE === 'all' ? 'all (consumes data.validated and retrain.requested)' : 'serve (reads only, consumes nothing)'})`,
    );

    let closing: Promise<void> | undefined;
    return {
      app,
      service,
      bus,
      url,
      grpcAddress,
      close: () =>
        (closing ??= (async () => {
          for (const step of cleanup) await step();
        })()),
    };
  } catch (error) {
    for (const step of cleanup) await step().catch(() => undefined);
    throw error;
  }
}
