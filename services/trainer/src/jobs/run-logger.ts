import { readFileSync } from 'node:fs';
import { Inject, Injectable } from '@nestjs/common';
import type { Signature } from '../onnx/graph';
import { TRAINER_LOG, TRAINER_SETTINGS, type TrainerLogger, type TrainerSettings } from '../trainer.settings';
import type { Job, JobRequest, TrainingOutcome } from './job';
import { mlflowSignature, mlmodelYaml } from './mlflow-model';
import { TrackingClient, TrackingError, type LoggedModelRef } from './tracking-client';

/** The name of the model in its run: `runs:/<run>/model`, as in every MLflow tutorial. */
const MODEL_NAME = 'model';

/** The trained model file and what is known of it. */
export interface ModelFile {
  path: string;
  signature: Signature;
  irVersion: number;
  /** The input columns in order. */
  features: string[];
}

/** What was logged: the run, and its MLflow logged model when the server has logged models. */
export interface LoggedRun {
  runId: string;
  loggedModel?: { modelId: string; uri: string; artifactUri: string };
}

/**
 * With TRACKING_URI: one MLflow run per successful job (experiment = model), with params,
 * final metrics, per-epoch metrics as steps and lineage tags, and the model as an MLflow 3
 * logged model of the run (model.onnx + MLmodel with the onnx flavor and the signature),
 * whose files are also the run's `model/` artifacts. Without: the job id stands for the run id.
 */
@Injectable()
export class RunLogger {
  constructor(
    @Inject(TRAINER_SETTINGS) private readonly settings: TrainerSettings,
    @Inject(TRAINER_LOG) private readonly log: TrainerLogger,
  ) {}

  async logRun(job: Job, request: JobRequest, run: TrainingOutcome, model: ModelFile): Promise<LoggedRun> {
    const uri = this.settings.tracking.uri;
    if (!uri) return { runId: job.jobId };
    try {
      const tracking = new TrackingClient(uri);
      const experimentId = await tracking.experimentId(job.model);
      const tags: Record<string, string> = {
        'mlflow.source.git.commit': this.settings.codeVersion,
        'mlops.job_id': job.jobId,
        'mlops.model': job.model,
        'mlops.artifact_uri': model.path,
      };
      if (request.datasetId) tags['mlops.dataset_id'] = request.datasetId;
      if (request.datasetHash) tags['mlops.dataset_hash'] = request.datasetHash;
      const { runId, artifactUri } = await tracking.startRun(experimentId, job.jobId, tags);
      await tracking.logBatch(runId, run.params, [...Object.entries(run.metrics).map(([key, value]) => ({ key, value, step: 0 })), ...run.steps]);
      const logged = await this.logModel(tracking, { experimentId, runId, runArtifactUri: artifactUri, params: run.params, job, model });
      await tracking.endRun(runId, 'FINISHED');
      return { runId, ...(logged ? { loggedModel: { modelId: logged.modelId, uri: `models:/${logged.modelId}`, artifactUri: logged.artifactUri } } : {}) };
    } catch (error) {
      throw new Error(`logging the run to tracking at ${uri} failed: ${(error as Error).message}`);
    }
  }

  /**
   * The model as the run's logged model, READY once its files are up (FAILED if an upload
   * fails). A server without logged models (MLflow 2) gets the files as run artifacts only.
   */
  private async logModel(
    tracking: TrackingClient,
    input: { experimentId: string; runId: string; runArtifactUri: string; params: Record<string, string>; job: Job; model: ModelFile },
  ): Promise<LoggedModelRef | undefined> {
    const { runId, model } = input;
    let logged: LoggedModelRef | undefined;
    try {
      logged = await tracking.createLoggedModel({
        experimentId: input.experimentId,
        name: MODEL_NAME,
        runId,
        params: input.params,
        tags: { 'mlops.job_id': input.job.jobId, 'mlops.model': input.job.model },
      });
    } catch (error) {
      if (!(error instanceof TrackingError && error.errorCode === 'ENDPOINT_NOT_FOUND')) throw error;
      this.log.warn(`tracking has no logged models (MLflow 2?): the model of run ${runId} is logged as the run's ${MODEL_NAME}/ artifacts only`);
    }
    if (!mlflowSignature(model.signature)) {
      const types = [...model.signature.inputs, ...model.signature.outputs].map((t) => `${t.name}: ${t.datatype}`).join(', ');
      this.log.warn(`the MLmodel of run ${runId} has no signature: MLflow's tensor specs cannot describe every tensor (${types})`);
    }
    const onnx = readFileSync(model.path);
    const mlmodel = mlmodelYaml({
      modelId: logged?.modelId ?? `m-${runId}`,
      runId,
      artifactPath: logged?.artifactUri ?? `${input.runArtifactUri}/${MODEL_NAME}`,
      signature: model.signature,
      irVersion: model.irVersion,
      modelSizeBytes: onnx.length,
      featureNames: model.features,
    });
    const files: [string, Uint8Array][] = [
      ['model.onnx', onnx],
      ['MLmodel', Buffer.from(mlmodel)],
    ];
    // Where the files go: the logged model's artifacts, and the run's model/ (so the run lists them too).
    const targets = [...(logged ? [{ uri: logged.artifactUri, prefix: '' }] : []), { uri: input.runArtifactUri, prefix: `${MODEL_NAME}/` }].filter((t) => {
      if (TrackingClient.canWrite(t.uri)) return true;
      this.log.warn(`the model of run ${runId} is not uploaded to ${t.uri || '(no artifact URI)'}: the trainer writes through mlflow-artifacts or to local paths only`);
      return false;
    });
    try {
      if (logged) await tracking.logOutputs(runId, logged.modelId);
      for (const [name, bytes] of files) {
        for (const target of targets) await tracking.putArtifact(target.uri, `${target.prefix}${name}`, bytes);
      }
      if (logged) await tracking.finalizeLoggedModel(logged.modelId, 'LOGGED_MODEL_READY');
    } catch (error) {
      if (logged) await tracking.finalizeLoggedModel(logged.modelId, 'LOGGED_MODEL_UPLOAD_FAILED').catch(() => undefined);
      throw error;
    }
    return logged;
  }
}
