import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import * as ort from 'onnxruntime-node';
import { builtinParams, trainBuiltin } from '../builtin/builtin-training';
import { DEFAULT_PARAMS } from '../builtin/linear-trainer';
import { nameModelFeatures } from '../onnx/feature-names';
import { readModel, type ModelSummary, type Signature } from '../onnx/graph';
import { TRAINER_LOG, TRAINER_SETTINGS, type TrainerLogger, type TrainerSettings } from '../trainer.settings';
import { loadDataset, type LoadedDataset } from './dataset';
import { trainWithCommand } from './external-trainer';
import { evaluateOnHoldout, holdoutNpy } from './holdout-evaluation';
import type { Job, JobRequest } from './job';
import { RunLogger } from './run-logger';

/** A job's trained model and what is recorded of it. */
export interface TrainedModel {
  runId: string;
  artifactUri: string;
  /** holdout.npy beside the model: the holdout's feature rows serving times a latency bound on; absent when it could not be written. */
  holdoutUri?: string;
  /** The run's MLflow logged model, when tracking took one. */
  loggedModel?: { modelId: string; uri: string; artifactUri: string };
  metrics: Record<string, number>;
  params: Record<string, string>;
  signature: Signature;
}

/**
 * Trains one job: reads its materialized dataset, trains with the external TRAINER_COMMAND or
 * the built-in algorithm its params select, writes model.onnx + metrics.json under
 * <root>/<model>/<jobId>/, checks the model and logs the run to tracking.
 */
@Injectable()
export class ModelTraining {
  constructor(
    private readonly runs: RunLogger,
    @Inject(TRAINER_SETTINGS) private readonly settings: TrainerSettings,
    @Inject(TRAINER_LOG) private readonly log: TrainerLogger,
  ) {}

  /** The default trainer: the command, or the built-in algorithm TRAINER_PARAMS selects. */
  get defaultKind(): string {
    return this.kindFor(this.settings.training.defaultParams);
  }

  /** The trainer that runs a job with these (merged) params. */
  kindFor(params: Record<string, unknown>): string {
    if (this.settings.training.command) return 'command';
    return `builtin:${params.algorithm === 'mlp' ? 'mlp' : 'linear'}`;
  }

  /** A job's params over TRAINER_PARAMS; for the built-in trainer, checked (InvalidJobRequest). */
  paramsOf(request: Pick<JobRequest, 'params'>): Record<string, unknown> {
    const params = { ...this.settings.training.defaultParams, ...request.params };
    if (!this.settings.training.command) builtinParams(params);
    return params;
  }

  /** Trains the job; an aborted `signal` interrupts it (the shutdown). */
  async train(job: Job, request: JobRequest, signal: AbortSignal): Promise<TrainedModel> {
    const outputDir = join(this.settings.jobs.artifactRoot, job.model, job.jobId);
    mkdirSync(outputDir, { recursive: true });
    const params = { ...this.settings.training.defaultParams, ...request.params };
    const sliceColumn = params.slice_column === undefined ? undefined : String(params.slice_column);
    const dataset = loadDataset(request.datasetUri, job.target, { sliceColumn });
    const common = {
      trainer: job.trainer,
      target: job.target,
      features: dataset.data.features.join(','),
      rows_read: String(dataset.rowsRead),
      rows_dropped: String(dataset.rowsDropped),
    };
    const command = this.settings.training.command;
    const outcome = command
      ? await trainWithCommand(job, { datasetUri: request.datasetUri, dataset, params }, { command: command.line, timeoutMs: command.timeoutMs, outputDir, signal })
      : await trainBuiltin(dataset.data, builtinParams(params), outputDir, signal);
    const modelPath = join(outputDir, 'model.onnx');
    if (command) this.nameFeatures(job, modelPath, dataset.data.features);
    const { signature, irVersion } = await validateModel(modelPath);
    const number = (value: unknown, fallback: number) => (value === undefined || !Number.isFinite(Number(value)) ? fallback : Number(value));
    const split = { testFraction: number(params.testFraction, DEFAULT_PARAMS.testFraction), seed: number(params.seed, DEFAULT_PARAMS.seed) };
    const measured = await this.measure(job, modelPath, dataset, split, params, sliceColumn);
    const holdoutUri = this.writeHoldout(job, outputDir, dataset, split);
    const recorded = { ...outcome, metrics: { ...outcome.metrics, ...measured }, params: { ...common, ...outcome.params, ...(sliceColumn ? { slice_column: sliceColumn } : {}) } };
    const logged = await this.runs.logRun(job, request, recorded, { path: modelPath, signature, irVersion, features: dataset.data.features });
    return { ...logged, artifactUri: modelPath, ...(holdoutUri ? { holdoutUri } : {}), metrics: recorded.metrics, params: recorded.params, signature };
  }

  /**
   * holdout.npy beside model.onnx: the holdout's feature rows in the model's input order, which
   * serving times during warm-up when a release policy bounds latency. Best effort: without it
   * serving rejects such a deployment, saying there is no holdout.
   */
  private writeHoldout(job: Job, outputDir: string, dataset: LoadedDataset, split: { testFraction: number; seed: number }): string | undefined {
    const path = join(outputDir, 'holdout.npy');
    try {
      writeFileSync(path, holdoutNpy(dataset.data, split));
      return path;
    } catch (error) {
      this.log.warn(`job ${job.jobId}: no holdout.npy (${(error as Error).message}); serving rejects a deployment of this model under a latency bound`);
      return undefined;
    }
  }

  /**
   * Measured on the holdout in onnxruntime-node: `inference_p99_ms` (a training metric only:
   * a release policy's latency bound is held by serving, which times the holdout.npy rows during
   * warm-up), and the per-slice metrics a fairness check reads with params.slice_column. Best
   * effort: a model this cannot feed is reported without them.
   */
  private async measure(
    job: Job,
    modelPath: string,
    dataset: LoadedDataset,
    split: { testFraction: number; seed: number },
    params: Record<string, unknown>,
    sliceColumn: string | undefined,
  ): Promise<Record<string, number>> {
    try {
      const metrics = await evaluateOnHoldout({
        model: readFileSync(modelPath),
        data: dataset.data,
        split,
        task: params.task === 'classification' || params.task === 'regression' ? params.task : undefined,
        slices: sliceColumn ? { column: sliceColumn, values: dataset.sliceValues ?? [] } : undefined,
      });
      this.log.log(`job ${job.jobId}: measured on the holdout with onnxruntime: ${Object.entries(metrics).map(([k, v]) => `${k}=${v}`).join(', ')}`);
      return metrics;
    } catch (error) {
      this.log.warn(`job ${job.jobId}: no holdout latency or slice metrics (${(error as Error).message}); a release policy's fairness check rejects this model`);
      return {};
    }
  }

  /** The command's model gets the dataset's feature names in its ONNX metadata, as the built-in trainer's has them (serving and monitoring key by them). */
  private nameFeatures(job: Job, modelPath: string, features: string[]): void {
    let named: ReturnType<typeof nameModelFeatures>;
    try {
      named = nameModelFeatures(readFileSync(modelPath), features);
    } catch {
      // Not an ONNX model: validateModel says so.
      return;
    }
    if (named.bytes) writeFileSync(modelPath, named.bytes);
    this.log.log(`job ${job.jobId}: ${named.note}`);
  }
}

/** A model is only reported when it parses as ONNX and loads in onnxruntime. */
async function validateModel(path: string): Promise<Pick<ModelSummary, 'signature' | 'irVersion'>> {
  const bytes = readFileSync(path);
  let summary: ModelSummary;
  try {
    summary = readModel(bytes);
  } catch (error) {
    throw new Error(`model.onnx is not a valid ONNX model: ${(error as Error).message}`);
  }
  try {
    const session = await ort.InferenceSession.create(bytes);
    await session.release();
  } catch (error) {
    throw new Error(`model.onnx does not load in onnxruntime: ${(error as Error).message}`);
  }
  return { signature: summary.signature, irVersion: summary.irVersion };
}
