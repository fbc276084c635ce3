import { Module, type DynamicModule } from '@nestjs/common';
import type { EventBus } from '@mlops/bus';
import { databaseAnswers, HealthController, readinessCheck } from '@mlops/http';
import { BusModule } from '@mlops/runtime';
import { DataSource } from 'typeorm';
import { ArtifactStore } from './artifacts/artifact-store';
import { RunArtifactsService } from './artifacts/run-artifacts.service';
import { ExperimentService } from './experiments/experiment.service';
import { ArtifactsController } from './http/artifacts.controller';
import { ExperimentsController } from './http/experiments.controller';
import { LoggedModelsController } from './http/logged-models.controller';
import { MlflowHealthController } from './http/mlflow-health.controller';
import { RunsController } from './http/runs.controller';
import { LoggedModelService } from './models/logged-model.service';
import { MetricHistoryService } from './runs/metric-history.service';
import { RunIoService } from './runs/run-io.service';
import { RunLogService } from './runs/run-log.service';
import { RunService } from './runs/run.service';
import { RunSearchService } from './search/run-search.service';
import { createRunLogStore } from './store/create-run-log-store';
import { ExperimentRepository } from './store/experiment.repository';
import { LoggedModelRepository } from './store/logged-model.repository';
import { MetricRepository } from './store/metric.repository';
import { RunLogStore } from './store/run-log-store';
import { RunIoRepository } from './store/run-io.repository';
import { RunSearchRepository } from './store/run-search.repository';
import { RunRepository } from './store/run.repository';
import type { TrackingConfig } from './tracking.config';
import { TrackingService } from './tracking.service';

/** What startTracking opens before the app: the database and the bus. */
export interface TrackingRuntime {
  dataSource: DataSource;
  bus: EventBus;
}

/** The tracking service: MLflow's REST API over experiments, runs, logged models and proxied artifacts. It consumes no events. */
@Module({})
export class TrackingModule {
  static forRoot(config: TrackingConfig, runtime: TrackingRuntime): DynamicModule {
    return {
      module: TrackingModule,
      imports: [BusModule.forRoot(runtime.bus)],
      controllers: [ExperimentsController, RunsController, LoggedModelsController, ArtifactsController, HealthController, MlflowHealthController],
      providers: [
        { provide: DataSource, useValue: runtime.dataSource },
        { provide: ArtifactStore, useValue: new ArtifactStore(config.TRACKING_ARTIFACT_ROOT) },
        // The log-batch writer for this database (better-sqlite3 on SQLite, TypeORM SQL otherwise).
        { provide: RunLogStore, useFactory: createRunLogStore, inject: [DataSource] },
        ExperimentRepository,
        RunRepository,
        MetricRepository,
        RunSearchRepository,
        LoggedModelRepository,
        RunIoRepository,
        ExperimentService,
        RunService,
        RunLogService,
        MetricHistoryService,
        RunSearchService,
        RunArtifactsService,
        LoggedModelService,
        RunIoService,
        TrackingService,
        readinessCheck(databaseAnswers(runtime.dataSource)),
      ],
    };
  }
}
