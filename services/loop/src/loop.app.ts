import { Logger, Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createEventBus, type EventBus, type InProcessTransport, type Subscription } from '@mlops/bus';
import type { AnyEvent } from '@mlops/contracts';
import { ApiErrorFilter, configureHttpApp, databaseAnswers, HealthController, readinessCheck } from '@mlops/http';
import type { DataSource } from 'typeorm';
import { openDataSource } from '@mlops/persistence';
import { RegistryGateLookup, type GateLookup } from './gate-lookup';
import { LoopController } from './http/loop.controller';
import { LOOP_SERVICE } from './http/tokens';
import { featureViewFor, type LoopConfig } from './loop.config';
import { LoopMetrics } from './loop.metrics';
import { LOOP_EVENT_TYPES, LoopService } from './loop.service';
import { CreateLoopTables1763900000800 } from './migrations/1763900000800-create-loop-tables';
import { loopEntities } from './store/entities';

export interface LoopApp {
  app: INestApplication;
  service: LoopService;
  metrics: LoopMetrics;
  bus: EventBus;
  /** The bound HTTP address, e.g. http://127.0.0.1:3008 */
  url: string;
  close(): Promise<void>;
}

@Module({})
class LoopModule {
  static with(providers: { service: LoopService; dataSource: DataSource }): DynamicModule {
    return {
      module: LoopModule,
      controllers: [LoopController, HealthController],
      providers: [
        { provide: LOOP_SERVICE, useValue: providers.service },
        readinessCheck(databaseAnswers(providers.dataSource)),
      ],
    };
  }
}

/**
 * Wires the loop controller from validated config: its database (loops and stages), the
 * consumer of every loop event (drift.detected -> retrain.requested with the ack), the
 * sweeper for gate rejections and stalled loops, and the HTTP API.
 */
export async function startLoop(
  config: LoopConfig,
  options: { inProcess?: InProcessTransport; logger?: boolean; now?: () => number; gate?: GateLookup; defaultMetrics?: boolean } = {},
): Promise<LoopApp> {
  const log = new Logger('loop');
  const quiet = options.logger === false;
  const dataSource = await openDataSource({
    service: 'loop',
    url: config.DATABASE_URL,
    entities: loopEntities,
    migrations: [CreateLoopTables1763900000800],
  });
  const bus = createEventBus(config, {
    service: 'loop',
    transactional: true,
    instanceId: config.INSTANCE_ID,
    inProcess: options.inProcess,
    logger: { warn: (m) => log.warn(m), error: (m) => log.error(m) },
  });
  const metrics = new LoopMetrics(options.defaultMetrics ?? true);
  const service = new LoopService(dataSource, {
    featureViewFor: (model) => featureViewFor(config.LOOP_FEATURE_VIEWS, model),
    cooldownMs: config.LOOP_COOLDOWN_S * 1000,
    gateWaitMs: config.LOOP_GATE_WAIT_S * 1000,
    stallTimeoutMs: config.LOOP_STALL_TIMEOUT_S * 1000,
    gate: options.gate ?? (config.LOOP_REGISTRY_URL ? new RegistryGateLookup(config.LOOP_REGISTRY_URL, config.API_TOKEN) : undefined),
    metrics,
    now: options.now,
    log: quiet ? undefined : { log: (m) => log.log(m), warn: (m) => log.warn(m) },
  });

  metrics.countOpen = () => service.openByModel();
  const app = await NestFactory.create(LoopModule.with({ service, dataSource }), {
    logger: quiet ? false : ['log', 'warn', 'error'],
  });
  configureHttpApp(app, { service: 'loop', filter: new ApiErrorFilter('loop'), apiToken: config.API_TOKEN, metrics: metrics.registry });
  await app.listen(config.LOOP_PORT, config.LOOP_HOST);
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');

  const subscription: Subscription = await bus.subscribeEvents({
    group: config.LOOP_GROUP,
    types: LOOP_EVENT_TYPES,
    // A new group starts at the end: a controller deployed today does not act on last month's drift.
    fromBeginning: false,
    handle: async (event, ctx) => {
      for (const followUp of await service.handle(event as AnyEvent)) ctx.publish(followUp);
    },
  });

  let sweeping: Promise<unknown> | undefined;
  const sweeper = setInterval(() => {
    sweeping ??= service
      .sweep()
      .catch((error: Error) => log.error(`sweep failed: ${error.message}`))
      .finally(() => (sweeping = undefined));
  }, config.LOOP_SWEEP_INTERVAL_MS);
  sweeper.unref();
  if (!quiet) {
    log.log(`loop controller listening on ${url} (bus: ${bus.transport.kind}, database: ${config.DATABASE_URL.split(':')[0]}, cooldown ${config.LOOP_COOLDOWN_S}s)`);
  }

  return {
    app,
    service,
    metrics,
    bus,
    url,
    close: async () => {
      clearInterval(sweeper);
      await sweeping;
      await subscription.stop();
      await app.close();
      await bus.close();
      await dataSource.destroy();
    },
  };
}
