import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createEventBus, type EventBus, type InProcessTransport } from '@mlops/bus';
import { ApiError, ApiErrorFilter, configureHttpApp, serveHttpApp } from '@mlops/http';
import { openDataSource } from '@mlops/persistence';
import { exportConsumerLag, startBusConsumers } from '@mlops/runtime';
import { ContentStore } from './artifacts/artifact-store';
import { CreateRegistryTables1763900000400 } from './migrations/1763900000400-create-registry-tables';
import { AddVersionStorage1763900000500 } from './migrations/1763900000500-add-version-storage';
import { AddServingState1763900000600 } from './migrations/1763900000600-add-serving-state';
import { AddReleasePolicies1763900000750 } from './migrations/1763900000750-add-release-policies';
import { AddServingStrategy1763900000800 } from './migrations/1763900000800-add-serving-strategy';
import { AddVersionHoldout1763900000900 } from './migrations/1763900000900-add-version-holdout';
import { AddServingMirrored1763900001000 } from './migrations/1763900001000-add-serving-mirrored';
import { ServingConflictError } from './deployments/serving-conflict';
import type { RegistryConfig } from './registry.config';
import { RegistryModule } from './registry.module';
import { RegistryService } from './registry.service';
import { registrySettings } from './registry.settings';
import { registryEntities } from './store/entities';

/** Deploy and promote by hand answer 409 when serving cannot do as asked; other refusals keep MLflow's codes. */
const servingConflicts = (error: unknown) => (error instanceof ServingConflictError ? new ApiError('FAILED_PRECONDITION', error.message) : undefined);

export interface RegistryApp {
  app: INestApplication;
  service: RegistryService;
  bus: EventBus;
  /** The bound HTTP address, e.g. http://127.0.0.1:5100 */
  url: string;
  close(): Promise<void>;
}

/**
 * Wires the registry from validated config: database, bus, content-addressed artifact store,
 * HTTP API and the consumers (training.completed through the quality gate; canary verdicts).
 */
export async function startRegistry(
  config: RegistryConfig,
  options: { inProcess?: InProcessTransport; logger?: boolean; mountedAt?: string } = {},
): Promise<RegistryApp> {
  const log = new Logger('registry');
  const settings = registrySettings(config);
  const dataSource = await openDataSource({
    service: 'registry',
    url: config.DATABASE_URL,
    entities: registryEntities,
    migrations: [CreateRegistryTables1763900000400, AddVersionStorage1763900000500, AddServingState1763900000600, AddReleasePolicies1763900000750, AddServingStrategy1763900000800, AddVersionHoldout1763900000900, AddServingMirrored1763900001000],
  });
  const bus = createEventBus(config, {
    service: 'registry',
    transactional: true,
    instanceId: config.INSTANCE_ID,
    inProcess: options.inProcess,
    logger: { warn: (m) => log.warn(m), error: (m) => log.error(m) },
  });

  const app = await NestFactory.create<NestExpressApplication>(RegistryModule.forRoot(settings, { dataSource, bus }), {
    logger: options.logger === false ? false : ['log', 'warn', 'error'],
    bodyParser: false,
  });
  const registry = configureHttpApp(app, { service: 'registry', filter: new ApiErrorFilter('registry', servingConflicts), apiToken: config.API_TOKEN });
  app.useBodyParser('json', { limit: '1mb' });
  app.useBodyParser('raw', { limit: config.REGISTRY_BODY_LIMIT, type: 'application/octet-stream' });
  const url = await serveHttpApp(app, { port: config.REGISTRY_PORT, host: config.REGISTRY_HOST, mountedAt: options.mountedAt });

  // training.completed in REGISTRY_GROUP, canary verdicts in `<REGISTRY_GROUP>.canary`.
  const consumers = await startBusConsumers(app, bus, { group: settings.consumers.group });
  exportConsumerLag(registry, bus, log);
  log.log(
    `registry listening on ${url} (bus: ${bus.transport.kind}, database: ${config.DATABASE_URL.split(':')[0]}, artifacts: ${app.get(ContentStore).root}, gate: ${config.REGISTRY_GATE_METRIC}${config.REGISTRY_HOLDOUT_PATH ? ' on holdout' : ' as reported'}, tracking: ${config.REGISTRY_TRACKING_URI ?? 'unset (runs:/ and models:/ sources refused)'})`,
  );

  return {
    app,
    service: app.get(RegistryService),
    bus,
    url,
    close: async () => {
      await consumers.close();
      await app.close();
      await bus.close();
      await dataSource.destroy();
    },
  };
}
