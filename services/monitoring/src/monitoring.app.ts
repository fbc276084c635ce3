import { Logger, Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createEventBus, type EventBus, type InProcessTransport, type Subscription } from '@mlops/bus';
import { ErrorFilter } from './http/http-errors';
import { MonitoringController } from './http/monitoring.controller';
import { MONITORING_METRICS, MONITORING_SERVICE } from './http/tokens';
import { MonitoringMetrics } from './metrics';
import type { MonitoringConfig } from './monitoring.config';
import { MonitoringService } from './monitoring.service';

export interface MonitoringApp {
  app: INestApplication;
  service: MonitoringService;
  metrics: MonitoringMetrics;
  bus: EventBus;
  /** The bound HTTP address, e.g. http://127.0.0.1:3007 */
  url: string;
  close(): Promise<void>;
}

@Module({})
class MonitoringModule {
  static with(providers: { service: MonitoringService; metrics: MonitoringMetrics }): DynamicModule {
    return {
      module: MonitoringModule,
      controllers: [MonitoringController],
      providers: [
        { provide: MONITORING_SERVICE, useValue: providers.service },
        { provide: MONITORING_METRICS, useValue: providers.metrics },
      ],
    };
  }
}

/**
 * Wires the monitoring service: prediction.logged consumer (drift windows per model
 * version), drift.detected producer, HTTP API for references and results, /metrics.
 */
export async function startMonitoring(
  config: MonitoringConfig,
  options: { inProcess?: InProcessTransport; logger?: boolean; now?: () => number; defaultMetrics?: boolean } = {},
): Promise<MonitoringApp> {
  const log = new Logger('monitoring');
  const metrics = new MonitoringMetrics(options.defaultMetrics ?? true);
  const service = new MonitoringService(
    {
      windowSize: config.MONITORING_WINDOW_SIZE,
      cooldownSeconds: config.MONITORING_COOLDOWN_S,
      datasetDriftShare: config.MONITORING_DATASET_DRIFT_SHARE,
      referenceFromFirst: config.MONITORING_REFERENCE_FROM_FIRST,
      now: options.now,
    },
    metrics,
  );
  const bus = createEventBus(config, {
    service: 'monitoring',
    inProcess: options.inProcess,
    logger: { warn: (m) => log.warn(m), error: (m) => log.error(m) },
  });

  const app = await NestFactory.create<NestExpressApplication>(MonitoringModule.with({ service, metrics }), {
    logger: options.logger === false ? false : ['log', 'warn', 'error'],
  });
  app.useBodyParser('json', { limit: config.MONITORING_BODY_LIMIT });
  app.useGlobalFilters(new ErrorFilter());
  await app.listen(config.MONITORING_PORT, config.MONITORING_HOST);
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');

  const subscription: Subscription = await bus.subscribeEvents({
    group: config.MONITORING_GROUP,
    types: ['prediction.logged'],
    handle: async (event, ctx) => {
      const drift = service.onPrediction(event);
      if (drift) {
        ctx.publish(drift);
        log.warn(`drift detected for ${drift.data.model} v${drift.data.version}: ${drift.data.features.filter((f) => f.drifted).map((f) => f.feature).join(', ')}`);
      }
    },
  });
  log.log(`monitoring listening on ${url} (bus: ${bus.transport.kind}, window: ${config.MONITORING_WINDOW_SIZE})`);

  return {
    app,
    service,
    metrics,
    bus,
    url,
    close: async () => {
      await subscription.stop();
      await app.close();
      await bus.close();
    },
  };
}
