import { Module, type DynamicModule } from '@nestjs/common';
import type { EventBus } from '@mlops/bus';
import { HealthController, readinessCheck } from '@mlops/http';
import { BusModule } from '@mlops/runtime';
import { Canaries } from './canary/canaries';
import { CanaryCountFlush } from './canary/canary-count-flush';
import { CanaryWatch } from './canary/canary-watch';
import { Champions } from './canary/champions';
import { LabelConsumer } from './consumers/label.consumer';
import { LifecycleConsumer } from './consumers/lifecycle.consumer';
import { PredictionConsumer } from './consumers/prediction.consumer';
import { DriftHistory } from './drift/drift-history';
import { DriftWatch } from './drift/drift-watch';
import { LabelIntake } from './http/label-intake';
import { LabelsController } from './http/labels.controller';
import { MonitoringController } from './http/monitoring.controller';
import { MonitoringMetrics } from './metrics';
import { MONITORING_SETTINGS, type MonitoringSettings } from './monitoring.settings';
import { CLOCK, MONITORING_LOG, type Clock, type MonitoringLog } from './monitoring.tokens';
import { LabelJoin } from './performance/label-join';
import { VersionPerformance } from './performance/version-performance';
import { PredictionIntake } from './predictions/prediction-intake';
import { LineageFacts } from './references/lineage-facts';
import { ReferenceResolver } from './references/reference-resolver';
import { Cooldowns } from './state/cooldowns';
import { Outbox } from './state/outbox';
import { StateRestore } from './state/state-restore';
import { WriteLane } from './state/write-lane';
import { MONITORING_DATABASE, type MonitoringDatabase } from './store/monitoring-database';
import { MonitoringRepository } from './store/monitoring.repository';
import { MonitoringStatus } from './status/monitoring-status';

/** What the monitor's module is made with at run time (opened or chosen by startMonitoring). */
export interface MonitoringRuntime {
  database: MonitoringDatabase;
  bus: EventBus;
  metrics: MonitoringMetrics;
  now: Clock;
  log: MonitoringLog;
}

@Module({})
export class MonitoringModule {
  static forRoot(settings: MonitoringSettings, runtime: MonitoringRuntime): DynamicModule {
    return {
      module: MonitoringModule,
      imports: [BusModule.forRoot(runtime.bus)],
      controllers: [MonitoringController, LabelsController, HealthController, PredictionConsumer, LabelConsumer, LifecycleConsumer],
      providers: [
        { provide: MONITORING_SETTINGS, useValue: settings },
        { provide: MONITORING_DATABASE, useValue: runtime.database },
        { provide: MonitoringMetrics, useValue: runtime.metrics },
        { provide: CLOCK, useValue: runtime.now },
        { provide: MONITORING_LOG, useValue: runtime.log },
        // Ready once started: the state is loaded before the HTTP server listens.
        readinessCheck(() => ({})),
        MonitoringRepository,
        WriteLane,
        Outbox,
        Cooldowns,
        StateRestore,
        DriftWatch,
        DriftHistory,
        LineageFacts,
        ReferenceResolver,
        Champions,
        Canaries,
        CanaryCountFlush,
        CanaryWatch,
        VersionPerformance,
        LabelJoin,
        PredictionIntake,
        LabelIntake,
        MonitoringStatus,
      ],
    };
  }
}
