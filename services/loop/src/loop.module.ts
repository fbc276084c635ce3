import { Module, type DynamicModule } from '@nestjs/common';
import { databaseAnswers, HealthController, readinessCheck } from '@mlops/http';
import { DataSource } from 'typeorm';
import { GateLookup, RegistryGateLookup } from './gate-lookup';
import { FeatureStoreViewLookup, FeatureViewLookup } from './feature-view-lookup';
import { ModelFeatureViews } from './feature-views/model-feature-views';
import { LoopController } from './http/loop.controller';
import { ModelFeatureViewController } from './http/model-feature-view.controller';
import { LoopCloser } from './lifecycle/loop-closer';
import { LoopEvents } from './lifecycle/loop-events';
import { LoopConsumer } from './loop.consumer';
import { LoopMetrics } from './loop.metrics';
import { LoopService } from './loop.service';
import { LOOP_CLOCK, LOOP_LOG, LOOP_SETTINGS, type LoopClock, type LoopLog, type LoopSettings } from './loop.settings';
import { NotificationsModule } from './notifications.module';
import { LoopQueries } from './queries/loop-queries';
import { FeatureViewChoicesRepository } from './store/feature-view-choices.repository';
import { LoopRepository } from './store/loop.repository';
import { LoopSweeper } from './timeouts/loop-sweeper';
import { LoopTimeouts } from './timeouts/loop-timeouts';
import { LOOP_PUBLISH, type LoopPublish } from './triggers/loop-scheduler';
import { trainingParamsControllers, trainingParamsProviders } from './training-params/training-params.parts';
import { triggerControllers, triggerProviders } from './triggers/triggers.parts';

/** What startLoop makes before the app: the database, metrics, the clock and the logger. */
export interface LoopRuntime {
  dataSource: DataSource;
  metrics: LoopMetrics;
  now: LoopClock;
  log: LoopLog;
  /** startLoop's `gate` option; else the registry's gate route when LOOP_REGISTRY_URL is set. */
  gate?: GateLookup;
  /** startLoop's `featureViews` option; else the feature store's views when LOOP_FEATURE_STORE_URL is set. */
  featureViews?: FeatureViewLookup;
  /** Publishes the events of the schedule trigger (outside any consumer's acknowledgement). */
  publish: LoopPublish;
}

/** The loop controller: its events, the sweep of timed-out loops and the HTTP API. */
@Module({})
export class LoopModule {
  static forRoot(settings: LoopSettings, runtime: LoopRuntime): DynamicModule {
    const registry = settings.registry;
    const gate = runtime.gate ?? (registry.url ? new RegistryGateLookup(registry.url, registry.apiToken) : undefined);
    const featureStore = settings.featureStore;
    const views = runtime.featureViews ?? (featureStore.url ? new FeatureStoreViewLookup(featureStore.url, featureStore.apiToken) : undefined);
    return {
      module: LoopModule,
      imports: [NotificationsModule.forRoot({ settings, now: runtime.now, log: runtime.log, dataSource: runtime.dataSource, metrics: runtime.metrics })],
      controllers: [LoopController, ModelFeatureViewController, HealthController, LoopConsumer, ...triggerControllers, ...trainingParamsControllers],
      providers: [
        { provide: LOOP_SETTINGS, useValue: settings },
        { provide: LOOP_CLOCK, useValue: runtime.now },
        { provide: LOOP_LOG, useValue: runtime.log },
        { provide: DataSource, useValue: runtime.dataSource },
        { provide: LoopMetrics, useValue: runtime.metrics },
        ...(gate ? [{ provide: GateLookup, useValue: gate }] : []),
        ...(views ? [{ provide: FeatureViewLookup, useValue: views }] : []),
        readinessCheck(databaseAnswers(runtime.dataSource)),
        LoopRepository,
        FeatureViewChoicesRepository,
        ModelFeatureViews,
        LoopCloser,
        LoopEvents,
        LoopTimeouts,
        LoopSweeper,
        LoopQueries,
        LoopService,
        { provide: LOOP_PUBLISH, useValue: runtime.publish },
        ...triggerProviders,
        ...trainingParamsProviders,
      ],
    };
  }
}
