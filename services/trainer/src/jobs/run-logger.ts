import { Inject, Injectable } from '@nestjs/common';
import { TRAINER_SETTINGS, type TrainerSettings } from '../trainer.settings';
import type { Job, JobRequest, TrainingOutcome } from './job';
import { TrackingClient } from './tracking-client';

/**
 * With TRACKING_URI: one MLflow run per successful job (experiment = model), with params,
 * final metrics, per-epoch metrics as steps and lineage tags; its run id is the job's.
 * Without: the job id stands for the run id.
 */
@Injectable()
export class RunLogger {
  constructor(@Inject(TRAINER_SETTINGS) private readonly settings: TrainerSettings) {}

  async log(job: Job, request: JobRequest, run: TrainingOutcome, modelPath: string): Promise<string> {
    const uri = this.settings.tracking.uri;
    if (!uri) return job.jobId;
    try {
      const tracking = new TrackingClient(uri);
      const experimentId = await tracking.experimentId(job.model);
      const tags: Record<string, string> = {
        'mlflow.source.git.commit': this.settings.codeVersion,
        'mlops.job_id': job.jobId,
        'mlops.model': job.model,
        'mlops.artifact_uri': modelPath,
      };
      if (request.datasetId) tags['mlops.dataset_id'] = request.datasetId;
      if (request.datasetHash) tags['mlops.dataset_hash'] = request.datasetHash;
      const runId = await tracking.startRun(experimentId, job.jobId, tags);
      await tracking.logBatch(runId, run.params, [...Object.entries(run.metrics).map(([key, value]) => ({ key, value, step: 0 })), ...run.steps]);
      await tracking.endRun(runId, 'FINISHED');
      return runId;
    } catch (error) {
      throw new Error(`logging the run to tracking at ${uri} failed: ${(error as Error).message}`);
    }
  }
}
