import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createEventBus, type EventBus, type InProcessTransport } from '@mlops/bus';
import { ApiErrorFilter, configureHttpApp, serveHttpApp } from '@mlops/http';
import { exportConsumerLag } from '@mlops/runtime';
import { openDataSource } from '@mlops/persistence';
import { DataContractEntity } from './contracts/data-contract.entity';
import type { IngestionConfig } from './ingestion.config';
import { IngestionModule } from './ingestion.module';
import { IngestionService } from './ingestion.service';
import { CreateDataContracts1763900000100 } from './migrations/1763900000100-create-data-contracts';
import { RawConsumer } from './raw-consumer';

export interface IngestionApp {
  app: INestApplication;
  service: IngestionService;
  bus: EventBus;
  /** The bound HTTP address, e.g. http://127.0.0.1:3001 */
  url: string;
  close(): Promise<void>;
}

/**
 * Wires the ingestion service from validated config: database, bus (Kafka transactions),
 * HTTP API and the raw.<source> consumer. Used by main.ts, the embedded runner and tests.
 */
export async function startIngestion(
  config: IngestionConfig,
  options: { inProcess?: InProcessTransport; logger?: boolean; mountedAt?: string } = {},
): Promise<IngestionApp> {
  const log = new Logger('ingestion');
  const dataSource = await openDataSource({
    service: 'ingestion',
    url: config.DATABASE_URL,
    entities: [DataContractEntity],
    migrations: [CreateDataContracts1763900000100],
  });
  const bus = createEventBus(config, {
    service: 'ingestion',
    transactional: true,
    instanceId: config.INSTANCE_ID,
    inProcess: options.inProcess,
    logger: { warn: (m) => log.warn(m), error: (m) => log.error(m) },
  });

  const app = await NestFactory.create<NestExpressApplication>(IngestionModule.forRoot(config, { dataSource, bus, log }), {
    logger: options.logger === false ? false : ['log', 'warn', 'error'],
  });
  const registry = configureHttpApp(app, { service: 'ingestion', filter: new ApiErrorFilter('ingestion'), apiToken: config.API_TOKEN });
  app.useBodyParser('json', { limit: config.INGESTION_BODY_LIMIT });
  const url = await serveHttpApp(app, { port: config.INGESTION_PORT, host: config.INGESTION_HOST, mountedAt: options.mountedAt });

  const raw = app.get(RawConsumer);
  await raw.start();
  exportConsumerLag(registry, bus, log);
  log.log(`ingestion listening on ${url} (bus: ${bus.transport.kind}, database: ${config.DATABASE_URL.split(':')[0]})`);

  return {
    app,
    service: app.get(IngestionService),
    bus,
    url,
    close: async () => {
      await raw.stop();
      await app.close();
      await bus.close();
      await dataSource.destroy();
    },
  };
}
