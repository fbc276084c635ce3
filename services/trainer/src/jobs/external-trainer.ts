import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_PARAMS } from '../builtin/linear-trainer';
import { writeCsv, type LoadedDataset } from './dataset';
import type { Job, TrainingOutcome } from './job';

export interface ExternalRun {
  command: string;
  env: Record<string, string>;
  outputDir: string;
  timeoutMs: number;
  /** Aborting kills the command (SIGTERM): the trainer is shutting down. */
  signal?: AbortSignal;
}

/** A failed external trainer, with the end of its stderr. */
export class ExternalTrainerError extends Error {
  override name = 'ExternalTrainerError';
}

/**
 * Runs an external trainer command in a shell with the dataset/output environment, and
 * returns its metrics.json once model.onnx and metrics.json are present and valid
 * (validating the model itself is the caller's job).
 */
export async function runExternalTrainer(run: ExternalRun): Promise<{ metrics: Record<string, unknown>; log: string }> {
  const tail: string[] = [];
  const keep = (chunk: Buffer) => {
    tail.push(chunk.toString());
    while (tail.join('').length > 4000 && tail.length > 1) tail.shift();
  };
  const code = await new Promise<number | string>((resolve, reject) => {
    const child = spawn(run.command, { shell: true, env: { ...process.env, ...run.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), run.timeoutMs);
    const abort = () => child.kill('SIGTERM');
    run.signal?.addEventListener('abort', abort, { once: true });
    child.once('error', (error) => {
      clearTimeout(timer);
      run.signal?.removeEventListener('abort', abort);
      reject(new ExternalTrainerError(`external trainer '${run.command}' did not start: ${error.message}`));
    });
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      run.signal?.removeEventListener('abort', abort);
      resolve(exitCode ?? signal ?? 'unknown');
    });
  });
  const log = tail.join('').slice(-4000).trim();
  run.signal?.throwIfAborted();
  if (code !== 0) {
    const why = code === 'SIGKILL' ? `was killed (timeout ${run.timeoutMs} ms?)` : `exited with ${code}`;
    throw new ExternalTrainerError(`external trainer '${run.command}' ${why}${log ? `: ${log.split('\n').slice(-5).join(' | ')}` : ''}`);
  }
  const modelPath = join(run.outputDir, 'model.onnx');
  const metricsPath = join(run.outputDir, 'metrics.json');
  if (!existsSync(modelPath)) throw new ExternalTrainerError(`external trainer '${run.command}' did not write model.onnx in OUTPUT_DIR (${run.outputDir})`);
  if (!existsSync(metricsPath)) throw new ExternalTrainerError(`external trainer '${run.command}' did not write metrics.json in OUTPUT_DIR (${run.outputDir})`);
  let metrics: unknown;
  try {
    metrics = JSON.parse(readFileSync(metricsPath, 'utf8'));
  } catch (error) {
    throw new ExternalTrainerError(`metrics.json written by the external trainer is not valid JSON: ${(error as Error).message}`);
  }
  if (!metrics || typeof metrics !== 'object' || Array.isArray(metrics)) {
    throw new ExternalTrainerError('metrics.json written by the external trainer must be a JSON object of metric names to numbers');
  }
  return { metrics: metrics as Record<string, unknown>, log };
}

const numericMetrics = (m: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(m).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1])));

/**
 * Trains a job with TRAINER_COMMAND: the dataset as given (Arrow) and as CSV in its
 * environment, with the job's params; records the command and the params.
 */
export async function trainWithCommand(
  job: Pick<Job, 'jobId' | 'model' | 'target'>,
  input: { datasetUri: string; dataset: LoadedDataset; params: Record<string, unknown> },
  run: Pick<ExternalRun, 'command' | 'timeoutMs' | 'outputDir' | 'signal'>,
): Promise<TrainingOutcome> {
  const { dataset, params } = input;
  const inputDir = join(run.outputDir, 'input');
  mkdirSync(inputDir, { recursive: true });
  const csv = join(inputDir, 'dataset.csv');
  writeCsv(csv, dataset.data, job.target);
  const result = await runExternalTrainer({
    ...run,
    env: {
      DATASET_PATH: resolve(input.datasetUri),
      DATASET_CSV: csv,
      TARGET: job.target,
      FEATURES: dataset.data.features.join(','),
      OUTPUT_DIR: run.outputDir,
      MODEL_NAME: job.model,
      JOB_ID: job.jobId,
      SEED: String(params.seed ?? DEFAULT_PARAMS.seed),
      TRAINER_PARAMS: JSON.stringify(params),
    },
  });
  rmSync(inputDir, { recursive: true, force: true });
  return {
    metrics: numericMetrics(result.metrics),
    params: { command: run.command, ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) },
    steps: [],
  };
}
