import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createEventBus, type EventBus, type InProcessTransport } from '@mlops/bus';
import { ApiErrorFilter, configureHttpApp, serveHttpApp } from '@mlops/http';
import { exportConsumerLag, startBusConsumers } from '@mlops/runtime';
import type { TrainerConfig } from './trainer.config';
import { TrainerModule } from './trainer.module';
import { SERVICE } from './trainer.names';
import { TrainerService } from './trainer.service';
import { trainerSettings } from './trainer.settings';

export interface TrainerApp {
  app: INestApplication;
  service: TrainerService;
  bus: EventBus;
  url: string;
  close(): Promise<void>;
}

/**
 * Wires the trainer from validated config: bus (dataset.materialized in, training.* out),
 * the persisted job queue (unfinished jobs of a previous run are resumed) and the HTTP job API. Used by main.ts, the embedded runner and tests.
 */
export async function startTrainer(config: TrainerConfig, options: { inProcess?: InProcessTransport; logger?: boolean; mountedAt?: string } = {}): Promise<TrainerApp> {
  const log = new Logger(SERVICE);
  const quiet = options.logger === false;
  const logger = quiet
    ? { log: () => undefined, warn: () => undefined, error: () => undefined }
    : { log: (m: string) => log.log(m), warn: (m: string) => log.warn(m), error: (m: string) => log.error(m) };
  const settings = trainerSettings(config);
  const bus = createEventBus(config, { service: SERVICE, instanceId: config.INSTANCE_ID, inProcess: options.inProcess, logger });
  const cleanup: (() => Promise<unknown>)[] = [() => bus.close()];
  try {
    const app = await NestFactory.create<NestExpressApplication>(TrainerModule.forRoot(settings, { bus, log: logger }), { logger: quiet ? false : ['log', 'warn', 'error'] });
    // Closing the app stops the job queue (TrainerService), after the HTTP server.
    cleanup.unshift(() => app.close());
    const registry = configureHttpApp(app, { service: 'trainer', filter: new ApiErrorFilter('trainer'), apiToken: config.API_TOKEN });
    // As before the module: unfinished jobs of a previous run are resumed (TrainerService.onModuleInit),
    // then dataset.materialized is consumed, then HTTP answers (ready means consuming).
    await app.init();
    const consumers = await startBusConsumers(app, bus, { group: settings.consumer.group });
    exportConsumerLag(registry, bus, logger);
    cleanup.unshift(() => consumers.close());
    const url = await serveHttpApp(app, { port: config.TRAINER_PORT, host: config.TRAINER_HOST, mountedAt: options.mountedAt });
    const service = app.get(TrainerService);
    logger.log(`trainer listening on ${url} (bus: ${bus.transport.kind}, trainer: ${service.trainerKind}, artifacts: ${service.artifactRoot})`);
    return {
      app,
      service,
      bus,
      url,
      close: async () => {
        for (const step of cleanup) await step();
      },
    };
  } catch (error) {
    for (const step of cleanup) await step().catch(() => undefined);
    throw error;
  }
}
