import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { EventBus } from '@mlops/bus';
import { createEvent, type EventEnvelope } from '@mlops/contracts';
import { DEFAULT_PARAMS, trainLinear, type Task, type TrainParams } from './builtin/linear-trainer';
import { loadDataset, writeCsv } from './jobs/dataset';
import { runExternalTrainer } from './jobs/external-trainer';
import { TrackingClient, type MetricPoint } from './jobs/tracking-client';
import { readModel, type Signature } from './onnx/graph';
import { targetFor, type TrainerConfig } from './trainer.config';

export const SERVICE = 'trainer';

export interface JobRequest {
  model: string;
  datasetUri: string;
  target?: string;
  params?: Record<string, unknown>;
  datasetId?: string;
  datasetHash?: string;
  datasetVersion?: string;
  /** Carried into training.* events (the loop this job belongs to). */
  correlationId?: string;
  jobId?: string;
}

export type JobStatus = 'running' | 'completed' | 'failed';

export interface Job {
  jobId: string;
  model: string;
  status: JobStatus;
  trainer: string;
  datasetUri: string;
  target: string;
  artifactUri?: string;
  metrics?: Record<string, number>;
  params?: Record<string, string>;
  signature?: Signature;
  runId?: string;
  error?: string;
  startedAt: string;
  finishedAt?: string;
}

export class InvalidJobRequest extends Error {
  override name = 'InvalidJobRequest';
}

export class JobNotFound extends Error {
  override name = 'JobNotFound';
}

export interface TrainerLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** Built-in hyperparameters from a loose object (request body or TRAINER_PARAMS). */
function builtinParams(raw: Record<string, unknown>): Partial<TrainParams> {
  const out: Partial<TrainParams> = {};
  for (const key of ['epochs', 'learningRate', 'l2', 'testFraction', 'seed'] as const) {
    if (raw[key] === undefined) continue;
    const value = Number(raw[key]);
    if (!Number.isFinite(value)) throw new InvalidJobRequest(`params.${key} must be a number`);
    out[key] = value;
  }
  if (raw.task !== undefined) {
    if (raw.task !== 'classification' && raw.task !== 'regression') throw new InvalidJobRequest("params.task must be 'classification' or 'regression'");
    out.task = raw.task as Task;
  }
  if (out.epochs !== undefined && (!Number.isInteger(out.epochs) || out.epochs < 1 || out.epochs > 100_000)) throw new InvalidJobRequest('params.epochs must be an integer in [1, 100000]');
  if (out.testFraction !== undefined && (out.testFraction < 0 || out.testFraction >= 1)) throw new InvalidJobRequest('params.testFraction must be in [0, 1)');
  return out;
}

const numericMetrics = (m: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(m).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1])));

/**
 * Training jobs: reads a materialized dataset, trains (built-in TS trainer or the external
 * TRAINER_COMMAND), writes model.onnx + metrics.json under <root>/<model>/<jobId>/ and
 * publishes training.started then training.completed or training.failed.
 */
export class TrainerService {
  private readonly jobs = new Map<string, Job>();
  private readonly handledEvents = new Set<string>();
  readonly artifactRoot: string;

  constructor(
    private readonly config: TrainerConfig,
    private readonly bus: EventBus,
    private readonly log: TrainerLogger,
  ) {
    this.artifactRoot = resolve(config.TRAINER_ARTIFACT_ROOT);
  }

  get trainerKind(): string {
    return this.config.TRAINER_COMMAND ? 'command' : 'builtin:linear';
  }

  getJob(jobId: string): Job {
    const job = this.jobs.get(jobId);
    if (!job) throw new JobNotFound(`job '${jobId}' does not exist`);
    return job;
  }

  listJobs(): Job[] {
    return [...this.jobs.values()];
  }

  /** Validates and starts a job; resolves when it is registered, `done` when it has finished. */
  submit(request: JobRequest): { job: Job; done: Promise<Job> } {
    if (typeof request.model !== 'string' || !NAME.test(request.model)) throw new InvalidJobRequest('model must be a name of letters, digits, ".", "_" or "-"');
    if (typeof request.datasetUri !== 'string' || request.datasetUri.length === 0) throw new InvalidJobRequest('datasetUri is required (the path of a materialized Arrow dataset)');
    if (request.target !== undefined && (typeof request.target !== 'string' || request.target.length === 0)) throw new InvalidJobRequest('target must be a column name');
    if (request.params !== undefined && (typeof request.params !== 'object' || request.params === null || Array.isArray(request.params))) throw new InvalidJobRequest('params must be an object');
    if (!this.config.TRAINER_COMMAND) builtinParams({ ...this.config.TRAINER_PARAMS, ...request.params });
    const jobId = request.jobId ?? `${request.model}-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
    if (this.jobs.has(jobId)) throw new InvalidJobRequest(`job '${jobId}' already exists`);
    const job: Job = {
      jobId,
      model: request.model,
      status: 'running',
      trainer: this.trainerKind,
      datasetUri: request.datasetUri,
      target: request.target ?? targetFor(this.config.TRAINER_TARGET, request.model),
      startedAt: new Date().toISOString(),
    };
    this.jobs.set(jobId, job);
    return { job, done: this.run(job, request) };
  }

  /** dataset.materialized -> a training job for its model (or feature view); once per event. */
  async onDatasetMaterialized(event: EventEnvelope<'dataset.materialized'>): Promise<Job | undefined> {
    if (this.handledEvents.has(event.id)) return undefined;
    this.handledEvents.add(event.id);
    const { done } = this.submit({
      model: event.data.model ?? event.data.featureView,
      datasetUri: event.data.uri,
      datasetId: event.data.datasetId,
      datasetHash: event.data.hash,
      datasetVersion: String(event.data.version),
      correlationId: event.correlationId,
      jobId: `${event.data.model ?? event.data.featureView}-v${event.data.version}-${event.id.slice(0, 8)}`,
    });
    return done;
  }

  private async run(job: Job, request: JobRequest): Promise<Job> {
    const correlationId = request.correlationId;
    const event = <T extends 'training.started' | 'training.completed' | 'training.failed'>(type: T, data: EventEnvelope<T>['data']) =>
      createEvent(type, { source: SERVICE, subject: job.model, correlationId, data } as never);
    try {
      await this.bus.publish(
        event('training.started', { jobId: job.jobId, model: job.model, trainer: job.trainer, datasetVersion: request.datasetVersion }),
      );
      const outputDir = join(this.artifactRoot, job.model, job.jobId);
      mkdirSync(outputDir, { recursive: true });
      const dataset = loadDataset(request.datasetUri, job.target);
      const common = {
        trainer: job.trainer,
        target: job.target,
        features: dataset.data.features.join(','),
        rows_read: String(dataset.rowsRead),
        rows_dropped: String(dataset.rowsDropped),
      };
      let metrics: Record<string, number>;
      let params: Record<string, string>;
      let steps: MetricPoint[] = [];
      if (this.config.TRAINER_COMMAND) {
        const inputDir = join(outputDir, 'input');
        mkdirSync(inputDir, { recursive: true });
        const csv = join(inputDir, 'dataset.csv');
        writeCsv(csv, dataset.data, job.target);
        const extra = { ...this.config.TRAINER_PARAMS, ...request.params };
        const result = await runExternalTrainer({
          command: this.config.TRAINER_COMMAND,
          outputDir,
          timeoutMs: this.config.TRAINER_COMMAND_TIMEOUT_MS,
          env: {
            DATASET_PATH: resolve(request.datasetUri),
            DATASET_CSV: csv,
            TARGET: job.target,
            FEATURES: dataset.data.features.join(','),
            OUTPUT_DIR: outputDir,
            MODEL_NAME: job.model,
            JOB_ID: job.jobId,
            SEED: String(extra.seed ?? DEFAULT_PARAMS.seed),
            TRAINER_PARAMS: JSON.stringify(extra),
          },
        });
        rmSync(inputDir, { recursive: true, force: true });
        metrics = numericMetrics(result.metrics);
        params = { ...common, command: this.config.TRAINER_COMMAND, ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, String(v)])) };
      } else {
        const result = trainLinear(dataset.data, builtinParams({ ...this.config.TRAINER_PARAMS, ...request.params }));
        writeFileSync(join(outputDir, 'model.onnx'), result.model);
        writeFileSync(join(outputDir, 'metrics.json'), JSON.stringify({ ...result.metrics, history: result.history }, null, 2));
        metrics = result.metrics;
        steps = result.history.flatMap(({ epoch, ...values }) =>
          Object.entries(values).map(([key, value]) => ({ key: `epoch_${key}`, value, step: epoch })),
        );
        params = { ...common, ...Object.fromEntries(Object.entries(result.hyperparams).map(([k, v]) => [k, String(v)])) };
      }
      const modelPath = join(outputDir, 'model.onnx');
      const signature = await this.validateModel(modelPath);
      const runId = await this.logRun(job, request, params, metrics, steps, modelPath);
      Object.assign(job, { runId, status: 'completed', artifactUri: modelPath, metrics, params, signature, finishedAt: new Date().toISOString() });
      await this.bus.publish(
        event('training.completed', {
          jobId: job.jobId,
          model: job.model,
          runId,
          datasetId: request.datasetId,
          datasetHash: request.datasetHash,
          codeVersion: this.config.CODE_VERSION,
          artifactUri: modelPath,
          metrics,
          params,
          signature,
        }),
      );
      this.log.log(`job ${job.jobId}: trained '${job.model}' (${JSON.stringify(metrics)}) -> ${modelPath}`);
    } catch (error) {
      const message = (error as Error)?.message || String(error);
      Object.assign(job, { status: 'failed', error: message, finishedAt: new Date().toISOString() });
      this.log.warn(`job ${job.jobId} failed: ${message}`);
      await this.bus.publish(event('training.failed', { jobId: job.jobId, model: job.model, error: message }));
    }
    return job;
  }

  /**
   * With TRACKING_URI: one MLflow run per successful job (experiment = model), with params,
   * final metrics, per-epoch metrics as steps and lineage tags; its run id is the job's.
   * Without: the job id stands for the run id.
   */
  private async logRun(job: Job, request: JobRequest, params: Record<string, string>, metrics: Record<string, number>, steps: MetricPoint[], modelPath: string): Promise<string> {
    if (!this.config.TRACKING_URI) return job.jobId;
    try {
      const tracking = new TrackingClient(this.config.TRACKING_URI);
      const experimentId = await tracking.experimentId(job.model);
      const tags: Record<string, string> = {
        'mlflow.source.git.commit': this.config.CODE_VERSION,
        'mlops.job_id': job.jobId,
        'mlops.model': job.model,
        'mlops.artifact_uri': modelPath,
      };
      if (request.datasetId) tags['mlops.dataset_id'] = request.datasetId;
      if (request.datasetHash) tags['mlops.dataset_hash'] = request.datasetHash;
      const runId = await tracking.startRun(experimentId, job.jobId, tags);
      await tracking.logBatch(runId, params, [...Object.entries(metrics).map(([key, value]) => ({ key, value, step: 0 })), ...steps]);
      await tracking.endRun(runId, 'FINISHED');
      return runId;
    } catch (error) {
      throw new Error(`logging the run to tracking at ${this.config.TRACKING_URI} failed: ${(error as Error).message}`);
    }
  }

  /** A model is only reported when it parses as ONNX and loads in onnxruntime. */
  private async validateModel(path: string): Promise<Signature> {
    const bytes = readFileSync(path);
    let signature: Signature;
    try {
      signature = readModel(bytes).signature;
    } catch (error) {
      throw new Error(`model.onnx is not a valid ONNX model: ${(error as Error).message}`);
    }
    try {
      const session = await ort.InferenceSession.create(bytes);
      await session.release();
    } catch (error) {
      throw new Error(`model.onnx does not load in onnxruntime: ${(error as Error).message}`);
    }
    return signature;
  }
}
