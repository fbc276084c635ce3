import { Module, type DynamicModule } from '@nestjs/common';
import type { EventBus } from '@mlops/bus';
import { HealthController, READINESS_CHECK } from '@mlops/http';
import { BusModule } from '@mlops/runtime';
import { TrainerController } from './http/trainer.controller';
import { DatasetReferences } from './jobs/dataset-references';
import { ModelTraining } from './jobs/model-training';
import { RunLogger } from './jobs/run-logger';
import { TrainingEvents } from './jobs/training-events';
import { TrainerConsumer } from './trainer.consumer';
import { TrainerService } from './trainer.service';
import { TRAINER_LOG, TRAINER_SETTINGS, type TrainerLogger, type TrainerSettings } from './trainer.settings';

/** The trainer: the job queue, training, the HTTP job API and the retraining consumer. */
@Module({})
export class TrainerModule {
  static forRoot(settings: TrainerSettings, runtime: { bus: EventBus; log: TrainerLogger }): DynamicModule {
    return {
      module: TrainerModule,
      imports: [BusModule.forRoot(runtime.bus)],
      controllers: [TrainerController, HealthController, TrainerConsumer],
      providers: [
        { provide: TRAINER_SETTINGS, useValue: settings },
        { provide: TRAINER_LOG, useValue: runtime.log },
        { provide: READINESS_CHECK, useFactory: (training: ModelTraining) => () => ({ trainer: training.defaultKind }), inject: [ModelTraining] },
        RunLogger,
        DatasetReferences,
        ModelTraining,
        TrainingEvents,
        TrainerService,
      ],
    };
  }
}
