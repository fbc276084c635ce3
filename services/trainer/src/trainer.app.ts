import { Logger, Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createEventBus, type EventBus, type InProcessTransport, type Subscription } from '@mlops/bus';
import { ApiErrorFilter, configureHttpApp, HealthController, readinessCheck } from '@mlops/http';
import { trainerErrors } from './http/http-errors';
import { TrainerController } from './http/trainer.controller';
import { TRAINER_SERVICE } from './http/tokens';
import type { TrainerConfig } from './trainer.config';
import { SERVICE, TrainerService } from './trainer.service';

export interface TrainerApp {
  app: INestApplication;
  service: TrainerService;
  bus: EventBus;
  url: string;
  close(): Promise<void>;
}

@Module({})
class TrainerModule {
  static with(service: TrainerService): DynamicModule {
    return {
      module: TrainerModule,
      controllers: [TrainerController, HealthController],
      providers: [{ provide: TRAINER_SERVICE, useValue: service }, readinessCheck(() => ({ trainer: service.trainerKind }))],
    };
  }
}

/**
 * Wires the trainer from validated config: bus (dataset.materialized in, training.* out),
 * the persisted job queue (unfinished jobs of a previous run are resumed) and the HTTP job API. Used by main.ts, the embedded runner and tests.
 */
export async function startTrainer(config: TrainerConfig, options: { inProcess?: InProcessTransport; logger?: boolean } = {}): Promise<TrainerApp> {
  const log = new Logger(SERVICE);
  const quiet = options.logger === false;
  const logger = quiet
    ? { log: () => undefined, warn: () => undefined, error: () => undefined }
    : { log: (m: string) => log.log(m), warn: (m: string) => log.warn(m), error: (m: string) => log.error(m) };
  const bus = createEventBus(config, { service: SERVICE, instanceId: config.INSTANCE_ID, inProcess: options.inProcess, logger });
  const cleanup: (() => Promise<unknown>)[] = [() => bus.close()];
  try {
    const service = new TrainerService(config, bus, logger);
    cleanup.unshift(() => service.stop());
    service.recover();
    // Acknowledged once the job is recorded in the queue: training runs off the handler.
    const subscription: Subscription = await bus.subscribeEvents({
      group: config.TRAINER_GROUP,
      types: ['dataset.materialized'],
      handle: async (event) => void service.onDatasetMaterialized(event),
    });
    cleanup.unshift(() => subscription.stop());

    const app = await NestFactory.create<NestExpressApplication>(TrainerModule.with(service), { logger: quiet ? false : ['log', 'warn', 'error'] });
    configureHttpApp(app, { service: 'trainer', filter: new ApiErrorFilter('trainer', trainerErrors), apiToken: config.API_TOKEN });
    cleanup.unshift(() => app.close());
    await app.listen(config.TRAINER_PORT, config.TRAINER_HOST);
    const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
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
