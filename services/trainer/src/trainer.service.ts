import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { EventOf } from '@mlops/contracts';
import type { Job, JobRecord, JobRequest } from './jobs/job';
import { JobStore } from './jobs/job-store';
import { ModelTraining } from './jobs/model-training';
import { TrainingEvents } from './jobs/training-events';
import { targetFor } from './trainer.config';
import { InvalidJobRequest, JobNotFound } from './trainer.errors';
import { TRAINER_LOG, TRAINER_SETTINGS, type TrainerLogger, type TrainerSettings } from './trainer.settings';

export type { Job, JobRequest, JobStatus } from './jobs/job';
export { InvalidJobRequest, JobNotFound } from './trainer.errors';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

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
@Injectable()
export class TrainerService implements OnModuleInit, OnApplicationShutdown {
  private readonly jobs = new Map<string, Job>();
  private readonly queue: { record: JobRecord; finished: (job: Job) => void }[] = [];
  private readonly running = new Set<Promise<unknown>>();
  private readonly shutdown = new AbortController();
  private readonly store: JobStore<JobRecord>;
  readonly artifactRoot: string;

  constructor(
    private readonly training: ModelTraining,
    private readonly events: TrainingEvents,
    @Inject(TRAINER_SETTINGS) private readonly settings: TrainerSettings,
    @Inject(TRAINER_LOG) private readonly log: TrainerLogger,
  ) {
    this.artifactRoot = settings.jobs.artifactRoot;
    this.store = new JobStore(join(this.artifactRoot, '.jobs'));
  }

  /** The default trainer: the command, or the built-in algorithm TRAINER_PARAMS selects. */
  get trainerKind(): string {
    return this.training.defaultKind;
  }

  /** Before the consumers start: the jobs of a previous process run first. */
  onModuleInit(): void {
    this.recover();
  }

  /** After the HTTP server has closed (Nest's last hook). */
  onApplicationShutdown(): Promise<void> {
    return this.stop();
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
    const params = this.training.paramsOf(request);
    if (this.shutdown.signal.aborted) throw new Error('the trainer is shutting down');
    const jobId = request.jobId ?? `${request.model}-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
    if (this.jobs.has(jobId)) throw new InvalidJobRequest(`job '${jobId}' already exists`);
    const job: Job = {
      jobId,
      model: request.model,
      status: 'queued',
      trainer: this.training.kindFor(params),
      datasetUri: request.datasetUri,
      ...(request.datasetId ? { datasetId: request.datasetId, datasetHash: request.datasetHash } : {}),
      target: request.target ?? targetFor(this.settings.jobs.target, request.model),
      queuedAt: new Date().toISOString(),
    };
    const record = { job, request };
    this.store.save(record);
    this.jobs.set(jobId, job);
    return { job, done: this.enqueue(record) };
  }

  /**
   * dataset.materialized naming a model -> a queued training job for it, once per event: the
   * job id comes from the event id and the job store outlives the process. A dataset without
   * a model (materialized only, e.g. POST /datasets without "train": true) trains nothing.
   * Returns when the job is recorded (undefined when no job was queued), not when it ends.
   */
  onDatasetMaterialized(event: EventOf<'dataset.materialized'>): { job: Job; done: Promise<Job> } | undefined {
    const model = event.data.model;
    if (!model) {
      this.log.log(`dataset ${event.data.datasetId} names no model: materialized only, nothing to train`);
      return undefined;
    }
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
      // A retrain's params (the loop's, for the model), over TRAINER_PARAMS.
      ...(event.data.params ? { params: event.data.params } : {}),
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
    while (!this.shutdown.signal.aborted && this.running.size < this.settings.jobs.concurrency && this.queue.length > 0) {
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
    try {
      await this.events.started(job, request);
      const trained = await this.training.train(job, request, this.shutdown.signal);
      Object.assign(job, { ...trained, status: 'completed', finishedAt: new Date().toISOString() });
      await this.events.completed(job, request, trained);
      this.log.log(`job ${job.jobId}: trained '${job.model}' (${JSON.stringify(trained.metrics)}) -> ${trained.artifactUri}`);
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
      await this.events.failed(job, request, message);
    }
    // Recorded as finished only once its event is out: a crash before re-runs the job.
    this.store.save({ job, request });
    return job;
  }
}
