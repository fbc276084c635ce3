import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createEventBus, type EventBus, type InProcessTransport } from '@mlops/bus';
import { ApiErrorFilter, configureHttpApp, serveHttpApp } from '@mlops/http';
import { openDataSource } from '@mlops/persistence';
import { exportConsumerLag, startBusConsumers } from '@mlops/runtime';
import type { FeatureStoreConfig } from './feature-store.config';
import { FeatureStoreModule } from './feature-store.module';
import { SERVICE, TABLE_PREFIX } from './feature-store.names';
import { FeatureStoreService } from './feature-store.service';
import { featureStoreSettings } from './feature-store.settings';
import { FeatureStoreGrpcServer } from './grpc/grpc-server';
import { FeatureStoreMetrics } from './metrics';
import { CreateFeatureStore1763900000200 } from './migrations/1763900000200-create-feature-store';
import { CreateFeatureViews1763900000300 } from './migrations/1763900000300-create-feature-views';
import { DatasetEntity, FeatureRowEntity, SourceRecordEntity } from './offline/feature-row.entity';
import { OnlineStore } from './online/online-store';
import { FeatureViewCatalog } from './views/feature-view-catalog';
import { FeatureViewEntity } from './views/feature-view.entity';

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

/**
 * Wires the feature store from validated config: feature views (YAML), database (offline
 * history, datasets), online store, bus consumers (data.validated, retrain.requested), the
 * HTTP dataset API and the gRPC online API. Used by main.ts, the embedded runner and tests.
 */
export async function startFeatureStore(
  config: FeatureStoreConfig,
  options: { inProcess?: InProcessTransport; logger?: boolean; mountedAt?: string } = {},
): Promise<FeatureStoreApp> {
  const log = new Logger(SERVICE);
  const quiet = options.logger === false;
  const logger = quiet ? { log: () => undefined, warn: () => undefined, error: () => undefined } : { log: (m: string) => log.log(m), warn: (m: string) => log.warn(m), error: (m: string) => log.error(m) };
  const settings = featureStoreSettings(config);

  const dataSource = await openDataSource({
    service: TABLE_PREFIX,
    url: config.DATABASE_URL,
    entities: [FeatureRowEntity, DatasetEntity, SourceRecordEntity, FeatureViewEntity],
    migrations: [CreateFeatureStore1763900000200, CreateFeatureViews1763900000300],
  });
  const cleanup: (() => Promise<unknown>)[] = [() => dataSource.destroy()];
  try {
    const bus = createEventBus(config, {
      service: SERVICE,
      transactional: true,
      instanceId: config.INSTANCE_ID,
      inProcess: options.inProcess,
      logger,
    });
    cleanup.unshift(() => bus.close());
    const metrics = new FeatureStoreMetrics(!options.inProcess);
    const app = await NestFactory.create<NestExpressApplication>(FeatureStoreModule.forRoot(settings, { dataSource, bus, metrics, log: logger }), {
      logger: quiet ? false : ['log', 'warn', 'error'],
      // Fail start-up with the error (e.g. Redis unreachable) instead of ending the process.
      abortOnError: false,
    });
    cleanup.unshift(() => app.close());
    configureHttpApp(app, { service: 'feature-store', filter: new ApiErrorFilter('feature-store'), apiToken: config.API_TOKEN, metrics: metrics.registry });
    app.useBodyParser('json', { limit: config.FEATURE_STORE_BODY_LIMIT });
    await app.init();
    // As before the module: the consumers, then the gRPC API, then HTTP (ready means consuming).
    const consumers = await startBusConsumers(app, bus, {
      group: settings.consumers.group,
      groups: { '': { fromBeginning: true }, retrain: { fromBeginning: true } },
    });
    cleanup.unshift(() => consumers.close());
    exportConsumerLag(metrics.registry, bus, logger);
    const grpcAddress = await app.get(FeatureStoreGrpcServer).listen();
    const url = await serveHttpApp(app, { port: config.FEATURE_STORE_HTTP_PORT, host: config.FEATURE_STORE_HTTP_HOST, mountedAt: options.mountedAt });
    logger.log(
      `feature store: HTTP ${url}, gRPC ${grpcAddress} (views: ${app.get(FeatureViewCatalog).versioned().map((v) => `${v.view.name} v${v.version}`).join(', ')}, seeded from ${settings.views.file}; ` +
        `bus: ${bus.transport.kind}, database: ${config.DATABASE_URL.split(':')[0]}, online store: ${app.get(OnlineStore).kind}; ` +
        `role: ${config.FEATURE_STORE_ROLE === 'all' ? 'all (consumes data.validated and retrain.requested)' : 'serve (reads only, consumes nothing)'})`,
    );

    let closing: Promise<void> | undefined;
    return {
      app,
      service: app.get(FeatureStoreService),
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
