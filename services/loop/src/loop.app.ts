import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createEventBus, type EventBus, type InProcessTransport } from '@mlops/bus';
import { ApiErrorFilter, configureHttpApp, serveHttpApp } from '@mlops/http';
import { openDataSource } from '@mlops/persistence';
import { exportConsumerLag, startBusConsumers } from '@mlops/runtime';
import type { FeatureViewLookup } from './feature-view-lookup';
import type { GateLookup } from './gate-lookup';
import type { LoopConfig } from './loop.config';
import { LoopMetrics } from './loop.metrics';
import { LoopModule } from './loop.module';
import { LoopService } from './loop.service';
import { loopSettings } from './loop.settings';
import { CreateLoopTables1763900000800 } from './migrations/1763900000800-create-loop-tables';
import { CreateLoopFeatureViews1763900000900 } from './migrations/1763900000900-create-loop-feature-views';
import { CreateTriggerTables1765000000810 } from './migrations/1765000000810-create-trigger-tables';
import { CreateWebhookTables1765100000000 } from './migrations/1765100000000-create-webhook-tables';
import { notificationEntities } from './notifications/store/notifications.entities';
import { NOTIFICATIONS_GROUP } from './notifications/notifications.consumer';
import { loopEntities } from './store/entities';
import { NEW_DATA_GROUP } from './triggers/new-data.consumer';
import { triggerEntities } from './store/trigger.entities';
import { trainingParamsEntities, trainingParamsMigrations } from './training-params/training-params.parts';

export interface LoopApp {
  app: INestApplication;
  service: LoopService;
  metrics: LoopMetrics;
  bus: EventBus;
  /** The bound HTTP address, e.g. http://127.0.0.1:3008 */
  url: string;
  close(): Promise<void>;
}

/**
 * Wires the loop controller from validated config: its database (loops and stages), the
 * consumer of every loop event (drift.detected -> retrain.requested with the ack), the
 * sweeper for gate rejections and stalled loops, and the HTTP API.
 */
export async function startLoop(
  config: LoopConfig,
  options: { inProcess?: InProcessTransport; logger?: boolean; now?: () => number; gate?: GateLookup; featureViews?: FeatureViewLookup; defaultMetrics?: boolean; mountedAt?: string } = {},
): Promise<LoopApp> {
  const log = new Logger('loop');
  const quiet = options.logger === false;
  const settings = loopSettings(config);
  const dataSource = await openDataSource({
    service: 'loop',
    url: config.DATABASE_URL,
    entities: [...loopEntities, ...triggerEntities, ...notificationEntities, ...trainingParamsEntities],
    migrations: [CreateLoopTables1763900000800, CreateLoopFeatureViews1763900000900, CreateTriggerTables1765000000810, CreateWebhookTables1765100000000, ...trainingParamsMigrations],
  });
  const bus = createEventBus(config, {
    service: 'loop',
    transactional: true,
    instanceId: config.INSTANCE_ID,
    inProcess: options.inProcess,
    logger: { warn: (m) => log.warn(m), error: (m) => log.error(m) },
  });
  const metrics = new LoopMetrics(options.defaultMetrics ?? true);
  const logs = { log: (m: string) => log.log(m), warn: (m: string) => log.warn(m), error: (m: string) => log.error(m) };
  const app = await NestFactory.create(
    LoopModule.forRoot(settings, {
      dataSource,
      metrics,
      now: options.now ?? Date.now,
      // Quiet: no loop logs; a failed sweep still goes to Nest's logger (which `logger: false` silences).
      log: quiet ? { ...logs, log: () => undefined, warn: () => undefined } : logs,
      gate: options.gate,
      featureViews: options.featureViews,
      publish: (events) => bus.publish(events),
    }),
    { logger: quiet ? false : ['log', 'warn', 'error'] },
  );
  configureHttpApp(app, { service: 'loop', filter: new ApiErrorFilter('loop'), apiToken: config.API_TOKEN, metrics: metrics.registry });
  const url = await serveHttpApp(app, { port: config.LOOP_PORT, host: config.LOOP_HOST, mountedAt: options.mountedAt });

  const consumers = await startBusConsumers(app, bus, {
    group: settings.consumer.group,
    // A new group starts at the end: a controller deployed today does not act on last month's drift.
    groups: { '': { fromBeginning: false }, [NEW_DATA_GROUP]: { fromBeginning: false }, [NOTIFICATIONS_GROUP]: { fromBeginning: false } },
  });
  exportConsumerLag(metrics.registry, bus, log);
  if (!quiet) {
    log.log(`loop controller listening on ${url} (bus: ${bus.transport.kind}, database: ${config.DATABASE_URL.split(':')[0]}, cooldown ${config.LOOP_COOLDOWN_S}s)`);
  }

  return {
    app,
    service: app.get(LoopService),
    metrics,
    bus,
    url,
    close: async () => {
      await consumers.close();
      // Stops the sweeper too (LoopSweeper waits for a sweep under way).
      await app.close();
      await bus.close();
      await dataSource.destroy();
    },
  };
}
