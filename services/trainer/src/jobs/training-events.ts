import { Inject, Injectable } from '@nestjs/common';
import { v5 as uuidv5 } from 'uuid';
import { EventBus } from '@mlops/bus';
import { createEvent, type EventEnvelope } from '@mlops/contracts';
import { SERVICE } from '../trainer.names';
import { TRAINER_SETTINGS, type TrainerSettings } from '../trainer.settings';
import type { Job, JobRequest } from './job';
import type { TrainedModel } from './model-training';

const EVENT_ID_NAMESPACE = '3c0e5a8e-7d51-4f0b-a6e2-0f4b9d2c7e13';

type TrainingEventType = 'training.started' | 'training.completed' | 'training.failed';

/**
 * A job's training.* events, published while it runs (off any bus handler, so with no ack
 * to go with). Ids come from the job id: a job run again after a crash re-announces the
 * same events, which their consumers (the registry) then apply once.
 */
@Injectable()
export class TrainingEvents {
  constructor(
    private readonly bus: EventBus,
    @Inject(TRAINER_SETTINGS) private readonly settings: TrainerSettings,
  ) {}

  started(job: Job, request: JobRequest): Promise<void> {
    return this.publish(job, request, 'training.started', { jobId: job.jobId, model: job.model, trainer: job.trainer, datasetVersion: request.datasetVersion });
  }

  /** Of a job that completed: its run, model, metrics, params and signature, with the lineage. */
  completed(job: Job, request: JobRequest, trained: TrainedModel): Promise<void> {
    return this.publish(job, request, 'training.completed', {
      jobId: job.jobId,
      model: job.model,
      runId: trained.runId,
      datasetId: request.datasetId,
      datasetHash: request.datasetHash,
      codeVersion: this.settings.codeVersion,
      artifactUri: trained.artifactUri,
      ...(trained.holdoutUri ? { holdoutUri: trained.holdoutUri } : {}),
      metrics: trained.metrics,
      params: trained.params,
      signature: trained.signature,
      ...(trained.loggedModel ? { loggedModel: trained.loggedModel } : {}),
    });
  }

  failed(job: Job, request: JobRequest, error: string): Promise<void> {
    return this.publish(job, request, 'training.failed', { jobId: job.jobId, model: job.model, error });
  }

  private publish<T extends TrainingEventType>(job: Job, request: JobRequest, type: T, data: EventEnvelope<T>['data']): Promise<void> {
    const event = createEvent(type, { id: uuidv5(`${job.jobId}/${type}`, EVENT_ID_NAMESPACE), source: SERVICE, subject: job.model, correlationId: request.correlationId, data } as never);
    return this.bus.publish(event);
  }
}
