import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createEventBus, type EventBus, type InProcessTransport } from '@mlops/bus';
import { ApiErrorFilter, configureHttpApp, serveHttpApp } from '@mlops/http';
import { openDataSource } from '@mlops/persistence';
import { ArtifactStore } from './artifacts/artifact-store';
import { CreateTrackingTables1763900000200 } from './migrations/1763900000200-create-tracking-tables';
import { CreateLoggedModelTables1764950000000 } from './migrations/1764950000000-create-logged-model-tables';
import { trackingEntities } from './store/entities';
import type { TrackingConfig } from './tracking.config';
import { TrackingModule } from './tracking.module';
import { TrackingService } from './tracking.service';

export interface TrackingApp {
  app: INestApplication;
  service: TrackingService;
  bus: EventBus;
  /** The bound HTTP address, e.g. http://127.0.0.1:5000 (what MLFLOW_TRACKING_URI points at). */
  url: string;
  close(): Promise<void>;
}

/** JSON bodies everywhere except artifact uploads, which stream to disk whatever their type. */
const isJsonRequest = (request: { url?: string; headers: Record<string, string | string[] | undefined> }) =>
  !/\/mlflow-artifacts\//.test(request.url ?? '') && /json/i.test(String(request.headers['content-type'] ?? ''));

/**
 * Wires the tracking service from validated config: database, bus, artifact store and the
 * MLflow-compatible HTTP API. Used by main.ts, the embedded runner and tests.
 */
export async function startTracking(
  config: TrackingConfig,
  options: { inProcess?: InProcessTransport; logger?: boolean; mountedAt?: string } = {},
): Promise<TrackingApp> {
  const log = new Logger('tracking');
  const dataSource = await openDataSource({
    service: 'tracking',
    url: config.DATABASE_URL,
    entities: trackingEntities,
    migrations: [CreateTrackingTables1763900000200, CreateLoggedModelTables1764950000000],
  });
  if (dataSource.options.type === 'better-sqlite3') {
    const sqlite = (dataSource.driver as unknown as { databaseConnection: { pragma(sql: string): unknown } }).databaseConnection;
    sqlite.pragma(`synchronous = ${config.TRACKING_SQLITE_SYNCHRONOUS}`);
  }
  const bus = createEventBus(config, {
    service: 'tracking',
    instanceId: config.INSTANCE_ID,
    inProcess: options.inProcess,
    logger: { warn: (m) => log.warn(m), error: (m) => log.error(m) },
  });

  const app = await NestFactory.create<NestExpressApplication>(TrackingModule.forRoot(config, { dataSource, bus }), {
    logger: options.logger === false ? false : ['log', 'warn', 'error'],
    bodyParser: false,
  });
  configureHttpApp(app, { service: 'tracking', filter: new ApiErrorFilter('tracking'), apiToken: config.API_TOKEN });
  app.useBodyParser('json', { limit: config.TRACKING_BODY_LIMIT, type: isJsonRequest });
  const url = await serveHttpApp(app, { port: config.TRACKING_PORT, host: config.TRACKING_HOST, mountedAt: options.mountedAt });
  log.log(
    `tracking listening on ${url} (bus: ${bus.transport.kind}, database: ${config.DATABASE_URL.split(':')[0]}, artifacts: ${app.get(ArtifactStore).root})`,
  );

  return {
    app,
    service: app.get(TrackingService),
    bus,
    url,
    close: async () => {
      await app.close();
      await bus.close();
      await dataSource.destroy();
    },
  };
}
