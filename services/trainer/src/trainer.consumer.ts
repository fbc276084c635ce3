import type { EventOf } from '@mlops/contracts';
import { BusConsumer, OnEvent } from '@mlops/runtime';
import { TrainerService } from './trainer.service';

/** Retraining: dataset.materialized (in TRAINER_GROUP) becomes a training job. */
@BusConsumer()
export class TrainerConsumer {
  constructor(private readonly jobs: TrainerService) {}

  /**
   * Acknowledged once the job is recorded in the queue: training runs off the handler, and
   * its training.* events are published as it goes (TrainingEvents), not with this ack.
   */
  @OnEvent('dataset.materialized')
  onDatasetMaterialized(event: EventOf<'dataset.materialized'>): void {
    this.jobs.onDatasetMaterialized(event);
  }
}
