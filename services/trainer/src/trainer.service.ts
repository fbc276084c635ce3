import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { v5 as uuidv5 } from 'uuid';
import type { EventBus } from '@mlops/bus';
import { createEvent, type EventEnvelope } from '@mlops/contracts';
import { runInSlices } from './builtin/cooperative';
import { DEFAULT_PARAMS, linearTraining, type EpochMetrics, type Task, type TrainParams } from './builtin/linear-trainer';
import { mlpTraining, type Activation, type MlpParams, type Optimizer } from './builtin/mlp-trainer';
import { loadDataset, writeCsv } from './jobs/dataset';
import { runExternalTrainer } from './jobs/external-trainer';
import { JobStore } from './jobs/job-store';
import { TrackingClient, type MetricPoint } from './jobs/tracking-client';
import { readModel, type Signature } from './onnx/graph';
import { targetFor, type TrainerConfig } from './trainer.config';

export const SERVICE = 'trainer';
const EVENT_ID_NAMESPACE = '3c0e5a8e-7d51-4f0b-a6e2-0f4b9d2c7e13';

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

export type JobStatus = 'queued' | 'running' | 'completed' | 'failed';

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
  queuedAt: string;
  startedAt?: string;
  finishedAt?: string;
}

/** What the job store keeps per job: enough to run it again after a crash. */
interface JobRecord {
  job: Job;
  request: JobRequest;
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

export type Algorithm = 'linear' | 'mlp';

/** The built-in trainer's algorithm and its hyperparameters, from a loose object (request body or TRAINER_PARAMS). */
export interface BuiltinParams {
  algorithm: Algorithm;
  linear: Partial<TrainParams>;
  mlp: Partial<MlpParams>;
}

const MLP_ONLY = ['hiddenLayers', 'activation', 'optimizer', 'batchSize'] as const;

function builtinParams(raw: Record<string, unknown>): BuiltinParams {
  const algorithm = raw.algorithm ?? 'linear';
  if (algorithm !== 'linear' && algorithm !== 'mlp') throw new InvalidJobRequest(`params.algorithm must be 'linear' or 'mlp' (got ${JSON.stringify(algorithm)})`);
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
  if (algorithm === 'linear') {
    const extra = MLP_ONLY.filter((key) => raw[key] !== undefined);
    if (extra.length) throw new InvalidJobRequest(`params.${extra.join(', params.')} only apply to params.algorithm 'mlp'`);
    return { algorithm, linear: out, mlp: {} };
  }
  const mlp: Partial<MlpParams> = { ...out };
  if (raw.hiddenLayers !== undefined) {
    // A list [32, 16] or, from an environment variable, the string "32,16".
    const list = typeof raw.hiddenLayers === 'string' ? raw.hiddenLayers.split(',').map((u) => Number(u.trim())) : raw.hiddenLayers;
    if (!Array.isArray(list) || list.length < 1 || list.length > 2 || !list.every((u) => Number.isInteger(u) && u >= 1 && u <= 1024)) {
      throw new InvalidJobRequest('params.hiddenLayers must be one or two layer sizes, integers in [1, 1024], e.g. [32] or [32, 16]');
    }
    mlp.hiddenLayers = list as number[];
  }
  if (raw.activation !== undefined) {
    if (raw.activation !== 'relu' && raw.activation !== 'tanh') throw new InvalidJobRequest("params.activation must be 'relu' or 'tanh'");
    mlp.activation = raw.activation as Activation;
  }
  if (raw.optimizer !== undefined) {
    if (raw.optimizer !== 'adam' && raw.optimizer !== 'sgd') throw new InvalidJobRequest("params.optimizer must be 'adam' or 'sgd'");
    mlp.optimizer = raw.optimizer as Optimizer;
  }
  if (raw.batchSize !== undefined) {
    const batchSize = Number(raw.batchSize);
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1_000_000) throw new InvalidJobRequest('params.batchSize must be an integer in [1, 1000000]');
    mlp.batchSize = batchSize;
  }
  if (mlp.learningRate !== undefined && !(mlp.learningRate > 0)) throw new InvalidJobRequest('params.learningRate must be > 0');
  return { algorithm, linear: {}, mlp };
}

const numericMetrics = (m: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(m).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1])));

/**
 * Training jobs: reads a materialized dataset, trains (built-in TS trainer or the external
 * TRAINER_COMMAND), writes model.onnx + metrics.json under <root>/<model>/<jobId>/ and
 * publishes training.started then training.completed or training.failed.
 *
 * Jobs go through a queue persisted under <root>/.jobs/ and run off the bus handler, at most
 * TRAINER_CONCURRENCY at a time: dataset.materialized is acknowledged once its job is
 * recorded, not when training ends, so a long training cannot outlast the Kafka session.
 * Built-in training runs in slices that give the event loop a turn (heartbeats, HTTP). Jobs
 * recorded but not finished (a crash, a shutdown) run again on the next start.
 */
export class TrainerService {
  private readonly jobs = new Map<string, Job>();
  private readonly queue: { record: JobRecord; finished: (job: Job) => void }[] = [];
  private readonly running = new Set<Promise<unknown>>();
  private readonly shutdown = new AbortController();
  private readonly store: JobStore<JobRecord>;
  readonly artifactRoot: string;

  constructor(
    private readonly config: TrainerConfig,
    private readonly bus: EventBus,
    private readonly log: TrainerLogger,
  ) {
    this.artifactRoot = resolve(config.TRAINER_ARTIFACT_ROOT);
    this.store = new JobStore(join(this.artifactRoot, '.jobs'));
  }

  /** The default trainer: the command, or the built-in algorithm TRAINER_PARAMS selects. */
  get trainerKind(): string {
    return this.trainerFor(this.config.TRAINER_PARAMS);
  }

  private trainerFor(params: Record<string, unknown>): string {
    if (this.config.TRAINER_COMMAND) return 'command';
    return `builtin:${params.algorithm === 'mlp' ? 'mlp' : 'linear'}`;
  }

  getJob(jobId: string): Job {
    const job = this.jobs.get(jobId);
    if (!job) throw new JobNotFound(`job '${jobId}' does not exist`);
    return job;
  }

  listJobs(): Job[] {
    return [...this.jobs.values()];
  }

  /** Loads the job history and queues again the jobs a previous process did not finish. */
  recover(): Job[] {
    const resumed: Job[] = [];
    for (const record of this.store.loadAll((file, error) => this.log.warn(`skipping the job record ${file}: ${error.message}`))) {
      this.jobs.set(record.job.jobId, record.job);
      if (record.job.status === 'queued' || record.job.status === 'running') {
        Object.assign(record.job, { status: 'queued', startedAt: undefined });
        resumed.push(record.job);
        void this.enqueue(record);
      }
    }
    if (resumed.length) this.log.log(`resuming ${resumed.length} unfinished job(s): ${resumed.map((j) => j.jobId).join(', ')}`);
    return resumed;
  }

  /**
   * Validates, records and queues a job; `job` is returned at once (running if a slot was
   * free), `done` resolves when it has finished.
   */
  submit(request: JobRequest): { job: Job; done: Promise<Job> } {
    if (typeof request.model !== 'string' || !NAME.test(request.model)) throw new InvalidJobRequest('model must be a name of letters, digits, ".", "_" or "-"');
    if (typeof request.datasetUri !== 'string' || request.datasetUri.length === 0) throw new InvalidJobRequest('datasetUri is required (the path of a materialized Arrow dataset)');
    if (request.target !== undefined && (typeof request.target !== 'string' || request.target.length === 0)) throw new InvalidJobRequest('target must be a column name');
    if (request.params !== undefined && (typeof request.params !== 'object' || request.params === null || Array.isArray(request.params))) throw new InvalidJobRequest('params must be an object');
    const params = { ...this.config.TRAINER_PARAMS, ...request.params };
    if (!this.config.TRAINER_COMMAND) builtinParams(params);
    if (this.shutdown.signal.aborted) throw new Error('the trainer is shutting down');
    const jobId = request.jobId ?? `${request.model}-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
    if (this.jobs.has(jobId)) throw new InvalidJobRequest(`job '${jobId}' already exists`);
    const job: Job = {
      jobId,
      model: request.model,
      status: 'queued',
      trainer: this.trainerFor(params),
      datasetUri: request.datasetUri,
      target: request.target ?? targetFor(this.config.TRAINER_TARGET, request.model),
      queuedAt: new Date().toISOString(),
    };
    const record = { job, request };
    this.store.save(record);
    this.jobs.set(jobId, job);
    return { job, done: this.enqueue(record) };
  }

  /**
   * dataset.materialized -> a queued training job for its model (or feature view), once per
   * event: the job id comes from the event id and the job store outlives the process.
   * Returns when the job is recorded (undefined for a job already known), not when it ends.
   */
  onDatasetMaterialized(event: EventEnvelope<'dataset.materialized'>): { job: Job; done: Promise<Job> } | undefined {
    const model = event.data.model ?? event.data.featureView;
    const jobId = `${model}-v${event.data.version}-${event.id.slice(0, 8)}`;
    if (this.jobs.has(jobId)) return undefined;
    return this.submit({
      model,
      datasetUri: event.data.uri,
      datasetId: event.data.datasetId,
      datasetHash: event.data.hash,
      datasetVersion: String(event.data.version),
      correlationId: event.correlationId,
      jobId,
    });
  }

  /** Stops starting jobs, interrupts the running ones (they stay queued for the next start) and waits for them. */
  async stop(): Promise<void> {
    this.shutdown.abort(new Error('the trainer is shutting down'));
    this.queue.length = 0;
    await Promise.allSettled([...this.running]);
  }

  private enqueue(record: JobRecord): Promise<Job> {
    return new Promise<Job>((finished) => {
      this.queue.push({ record, finished });
      this.startNext();
    });
  }

  private startNext(): void {
    while (!this.shutdown.signal.aborted && this.running.size < this.config.TRAINER_CONCURRENCY && this.queue.length > 0) {
      const { record, finished } = this.queue.shift()!;
      Object.assign(record.job, { status: 'running', startedAt: new Date().toISOString() });
      this.store.save(record);
      const run: Promise<unknown> = this.run(record.job, record.request)
        .catch((error: Error) => this.log.error(`job ${record.job.jobId}: ${error.message}`))
        .finally(() => {
          this.running.delete(run);
          finished(record.job);
          this.startNext();
        });
      this.running.add(run);
    }
  }

  private async run(job: Job, request: JobRequest): Promise<Job> {
    const correlationId = request.correlationId;
    // Ids from the job id: a job run again after a crash re-announces the same events, which
    // their consumers (the registry) then apply once.
    const event = <T extends 'training.started' | 'training.completed' | 'training.failed'>(type: T, data: EventEnvelope<T>['data']) =>
      createEvent(type, { id: uuidv5(`${job.jobId}/${type}`, EVENT_ID_NAMESPACE), source: SERVICE, subject: job.model, correlationId, data } as never);
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
          signal: this.shutdown.signal,
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
        const builtin = builtinParams({ ...this.config.TRAINER_PARAMS, ...request.params });
        const training = builtin.algorithm === 'mlp' ? mlpTraining(dataset.data, builtin.mlp) : linearTraining(dataset.data, builtin.linear);
        const result = await runInSlices<{ model: Uint8Array; metrics: Record<string, number>; history: EpochMetrics[]; hyperparams: object }>(training, 20, this.shutdown.signal);
        writeFileSync(join(outputDir, 'model.onnx'), result.model);
        writeFileSync(join(outputDir, 'metrics.json'), JSON.stringify({ ...result.metrics, history: result.history }, null, 2));
        metrics = result.metrics;
        steps = result.history.flatMap(({ epoch, ...values }) =>
          Object.entries(values).map(([key, value]) => ({ key: `epoch_${key}`, value, step: epoch })),
        );
        params = { ...common, algorithm: builtin.algorithm, ...Object.fromEntries(Object.entries(result.hyperparams).map(([k, v]) => [k, Array.isArray(v) ? JSON.stringify(v) : String(v)])) };
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
      if (this.shutdown.signal.aborted) {
        Object.assign(job, { status: 'queued', startedAt: undefined });
        this.store.save({ job, request });
        this.log.warn(`job ${job.jobId} was interrupted by the shutdown; it runs again on the next start`);
        return job;
      }
      const message = (error as Error)?.message || String(error);
      Object.assign(job, { status: 'failed', error: message, finishedAt: new Date().toISOString() });
      this.log.warn(`job ${job.jobId} failed: ${message}`);
      await this.bus.publish(event('training.failed', { jobId: job.jobId, model: job.model, error: message }));
    }
    // Recorded as finished only once its event is out: a crash before re-runs the job.
    this.store.save({ job, request });
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
