import { resolve } from 'node:path';
import type { TrainerConfig } from './trainer.config';

/** What the trainer's parts read from the config, grouped by use case; made once at start. */
export interface TrainerSettings {
  /** The consumer group of dataset.materialized. */
  consumer: { group: string };
  jobs: {
    /** Absolute: models under <root>/<model>/<jobId>/, the job queue under <root>/.jobs/. */
    artifactRoot: string;
    concurrency: number;
    /** TRAINER_TARGET: the target column, one for all or per model (see targetFor). */
    target: string;
    /** Absolute TRAINER_DATASET_ROOT: the feature store's datasets, for jobs naming a dataset by reference. */
    datasetRoot: string;
  };
  training: {
    /** TRAINER_PARAMS; a job's own params override them. */
    defaultParams: Record<string, unknown>;
    /** The external trainer (TRAINER_COMMAND); unset: the built-in trainer. */
    command?: { line: string; timeoutMs: number };
  };
  /** Where runs are logged (TRACKING_URI); unset: none. */
  tracking: { uri?: string };
  /** CODE_VERSION, carried into training.completed and the run's tags. */
  codeVersion: string;
}

/** Injection token of the TrainerSettings. */
export const TRAINER_SETTINGS = Symbol('TrainerSettings');

/** Injection token of the trainer's logger (silent when startTrainer is asked for no logs). */
export const TRAINER_LOG = Symbol('TrainerLog');

export interface TrainerLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function trainerSettings(config: TrainerConfig): TrainerSettings {
  return {
    consumer: { group: config.TRAINER_GROUP },
    jobs: { artifactRoot: resolve(config.TRAINER_ARTIFACT_ROOT), concurrency: config.TRAINER_CONCURRENCY, target: config.TRAINER_TARGET, datasetRoot: resolve(config.TRAINER_DATASET_ROOT) },
    training: {
      defaultParams: config.TRAINER_PARAMS,
      command: config.TRAINER_COMMAND ? { line: config.TRAINER_COMMAND, timeoutMs: config.TRAINER_COMMAND_TIMEOUT_MS } : undefined,
    },
    tracking: { uri: config.TRACKING_URI },
    codeVersion: config.CODE_VERSION,
  };
}
