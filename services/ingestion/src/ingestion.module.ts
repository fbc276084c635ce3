import { Module, type DynamicModule } from '@nestjs/common';
import type { EventBus } from '@mlops/bus';
import { databaseAnswers, HealthController, READINESS_CHECK } from '@mlops/http';
import { BusModule } from '@mlops/runtime';
import { DataSource } from 'typeorm';
import { DataContractRepository } from './contracts/data-contract.repository';
import { IngestionController } from './http/ingestion.controller';
import type { IngestionConfig } from './ingestion.config';
import { IngestionService } from './ingestion.service';
import { INGESTION_LOG, INGESTION_SETTINGS, ingestionSettings, type IngestionLog } from './ingestion.settings';
import { RawConsumer } from './raw-consumer';

/** What startIngestion opens before the app: the database, the bus and the logger. */
export interface IngestionRuntime {
  dataSource: DataSource;
  bus: EventBus;
  log: IngestionLog;
}

/** The ingestion service: data contracts, the records API and the raw.<source> consumer. */
@Module({})
export class IngestionModule {
  static forRoot(config: IngestionConfig, runtime: IngestionRuntime): DynamicModule {
    return {
      module: IngestionModule,
      imports: [BusModule.forRoot(runtime.bus)],
      controllers: [IngestionController, HealthController],
      providers: [
        { provide: INGESTION_SETTINGS, useValue: ingestionSettings(config) },
        { provide: INGESTION_LOG, useValue: runtime.log },
        { provide: DataSource, useValue: runtime.dataSource },
        DataContractRepository,
        IngestionService,
        RawConsumer,
        {
          provide: READINESS_CHECK,
          useFactory: (service: IngestionService) => databaseAnswers(runtime.dataSource, () => ({ sources: service.sources().length })),
          inject: [IngestionService],
        },
      ],
    };
  }
}
