import { Module, type DynamicModule, type OnModuleDestroy } from '@nestjs/common';
import type { EventBus } from '@mlops/bus';
import { BusModule } from '@mlops/runtime';
import { DataSource } from 'typeorm';
import { ValidatedEventApplier } from './apply/validated-event-applier';
import { FeatureStoreConsumer } from './feature-store.consumer';
import { FeatureStoreService } from './feature-store.service';
import { FEATURE_STORE_LOG, FEATURE_STORE_SETTINGS, type FeatureStoreLog, type FeatureStoreSettings } from './feature-store.settings';
import { FeatureStoreStats } from './feature-store.stats';
import { FeatureStoreGrpcServer } from './grpc/grpc-server';
import { FeatureStoreController } from './http/feature-store.controller';
import { DatasetRepository } from './materialize/dataset.repository';
import { Materializer } from './materialize/materializer';
import { FeatureStoreMetrics } from './metrics';
import { FeatureRowRepository } from './offline/feature-row.repository';
import { OfflineStore } from './offline/offline-store';
import { OnlineStore } from './online/online-store';
import { onlineStoreProvider } from './online/online-store.provider';
import { FeatureViewCatalog } from './views/feature-view-catalog';
import { FeatureViewRepository } from './views/feature-view.repository';

/** What startFeatureStore opens before the app: the database, the bus, metrics and the logger. */
export interface FeatureStoreRuntime {
  dataSource: DataSource;
  bus: EventBus;
  metrics: FeatureStoreMetrics;
  log: FeatureStoreLog;
}

/**
 * The feature store: views, offline store (history, datasets) and online store, the HTTP
 * dataset API, the gRPC online API and, for FEATURE_STORE_ROLE=all, the bus consumers.
 */
@Module({})
export class FeatureStoreModule implements OnModuleDestroy {
  constructor(private readonly online: OnlineStore) {}

  static forRoot(settings: FeatureStoreSettings, runtime: FeatureStoreRuntime): DynamicModule {
    return {
      module: FeatureStoreModule,
      imports: [BusModule.forRoot(runtime.bus)],
      // A serve instance joins no consumer group: it has no consumers.
      controllers: [FeatureStoreController, ...(settings.consumers.enabled ? [FeatureStoreConsumer] : [])],
      providers: [
        { provide: FEATURE_STORE_SETTINGS, useValue: settings },
        { provide: FEATURE_STORE_LOG, useValue: runtime.log },
        { provide: DataSource, useValue: runtime.dataSource },
        { provide: FeatureStoreMetrics, useValue: runtime.metrics },
        onlineStoreProvider,
        FeatureRowRepository,
        DatasetRepository,
        FeatureViewRepository,
        FeatureViewCatalog,
        FeatureStoreStats,
        OfflineStore,
        Materializer,
        ValidatedEventApplier,
        FeatureStoreService,
        FeatureStoreGrpcServer,
      ],
    };
  }

  /** The online store closes after the gRPC server that reads it (Nest destroys the module after its providers). */
  onModuleDestroy(): Promise<void> {
    return this.online.close();
  }
}
