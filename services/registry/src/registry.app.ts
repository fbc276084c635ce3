import { Logger, Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createEventBus, type EventBus, type InProcessTransport } from '@mlops/bus';
import { openDataSource } from '@mlops/persistence';
import { ContentStore } from './artifacts/artifact-store';
import { ApiErrorFilter, configureHttpApp, databaseAnswers, HealthController, readinessCheck } from '@mlops/http';
import type { DataSource } from 'typeorm';
import { ModelsController } from './http/models.controller';
import { MlflowRegistryController } from './http/registry.controller';
import { REGISTRY_SERVICE } from './http/tokens';
import { CreateRegistryTables1763900000400 } from './migrations/1763900000400-create-registry-tables';
import type { RegistryConfig } from './registry.config';
import { RegistryService } from './registry.service';
import { registryEntities } from './store/entities';
import { TrainingConsumer } from './training-consumer';
import { CanaryConsumer } from './canary-consumer';

export interface RegistryApp {
  app: INestApplication;
  service: RegistryService;
  bus: EventBus;
  /** The bound HTTP address, e.g. http://127.0.0.1:5100 */
  url: string;
  close(): Promise<void>;
}

@Module({})
class RegistryModule {
  static with(providers: { service: RegistryService; dataSource: DataSource }): DynamicModule {
    return {
      module: RegistryModule,
      controllers: [MlflowRegistryController, ModelsController, HealthController],
      providers: [
        { provide: REGISTRY_SERVICE, useValue: providers.service },
        readinessCheck(databaseAnswers(providers.dataSource)),
      ],
    };
  }
}

/**
 * Wires the registry from validated config: database, bus, content-addressed artifact store,
 * HTTP API and the training.completed consumer (the quality gate).
 */
export async function startRegistry(
  config: RegistryConfig,
  options: { inProcess?: InProcessTransport; logger?: boolean } = {},
): Promise<RegistryApp> {
  const log = new Logger('registry');
  const dataSource = await openDataSource({
    service: 'registry',
    url: config.DATABASE_URL,
    entities: registryEntities,
    migrations: [CreateRegistryTables1763900000400],
  });
  const bus = createEventBus(config, {
    service: 'registry',
    transactional: true,
    instanceId: config.INSTANCE_ID,
    inProcess: options.inProcess,
    logger: { warn: (m) => log.warn(m), error: (m) => log.error(m) },
  });
  const service = new RegistryService(dataSource, bus, new ContentStore(config.REGISTRY_ARTIFACT_ROOT), {
    metric: config.REGISTRY_GATE_METRIC,
    lowerIsBetter: config.REGISTRY_LOWER_IS_BETTER,
    tolerance: config.REGISTRY_GATE_TOLERANCE,
    holdoutPath: config.REGISTRY_HOLDOUT_PATH,
    canaryShare: config.REGISTRY_CANARY_SHARE,
    importRoots: config.REGISTRY_IMPORT_ROOTS,
  });

  const app = await NestFactory.create<NestExpressApplication>(RegistryModule.with({ service, dataSource }), {
    logger: options.logger === false ? false : ['log', 'warn', 'error'],
    bodyParser: false,
  });
  configureHttpApp(app, { service: 'registry', filter: new ApiErrorFilter('registry'), apiToken: config.API_TOKEN });
  app.useBodyParser('json', { limit: '1mb' });
  app.useBodyParser('raw', { limit: config.REGISTRY_BODY_LIMIT, type: 'application/octet-stream' });
  await app.listen(config.REGISTRY_PORT, config.REGISTRY_HOST);
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');

  const consumer = new TrainingConsumer(service, bus, config.REGISTRY_GROUP);
  await consumer.start();
  const canary = new CanaryConsumer(service, bus, `${config.REGISTRY_GROUP}.canary`, { log: (m) => log.log(m), warn: (m) => log.warn(m) });
  await canary.start();
  log.log(
    `registry listening on ${url} (bus: ${bus.transport.kind}, database: ${config.DATABASE_URL.split(':')[0]}, artifacts: ${service.store.root}, gate: ${config.REGISTRY_GATE_METRIC}${config.REGISTRY_HOLDOUT_PATH ? ' on holdout' : ' as reported'})`,
  );

  return {
    app,
    service,
    bus,
    url,
    close: async () => {
      await consumer.stop();
      await canary.stop();
      await app.close();
      await bus.close();
      await dataSource.destroy();
    },
  };
}
