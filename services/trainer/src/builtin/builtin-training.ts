import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainingOutcome } from '../jobs/job';
import { InvalidJobRequest } from '../trainer.errors';
import { runInSlices } from './cooperative';
import { linearTraining, type EpochMetrics, type TabularData, type Task, type TrainParams } from './linear-trainer';
import { mlpTraining, type Activation, type MlpParams, type Optimizer } from './mlp-trainer';

export type Algorithm = 'linear' | 'mlp';

/** The built-in trainer's algorithm and its hyperparameters, from a loose object (request body or TRAINER_PARAMS). */
export interface BuiltinParams {
  algorithm: Algorithm;
  linear: Partial<TrainParams>;
  mlp: Partial<MlpParams>;
}

const MLP_ONLY = ['hiddenLayers', 'activation', 'optimizer', 'batchSize'] as const;

/** Throws InvalidJobRequest naming the first bad parameter. */
export function builtinParams(raw: Record<string, unknown>): BuiltinParams {
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

/**
 * Trains with the built-in algorithm in slices that give the event loop a turn (an aborted
 * `signal` stops it), and writes model.onnx and metrics.json (with the per-epoch history).
 */
export async function trainBuiltin(data: TabularData, builtin: BuiltinParams, outputDir: string, signal: AbortSignal): Promise<TrainingOutcome> {
  const training = builtin.algorithm === 'mlp' ? mlpTraining(data, builtin.mlp) : linearTraining(data, builtin.linear);
  const result = await runInSlices<{ model: Uint8Array; metrics: Record<string, number>; history: EpochMetrics[]; hyperparams: object }>(training, 20, signal);
  writeFileSync(join(outputDir, 'model.onnx'), result.model);
  writeFileSync(join(outputDir, 'metrics.json'), JSON.stringify({ ...result.metrics, history: result.history }, null, 2));
  return {
    metrics: result.metrics,
    steps: result.history.flatMap(({ epoch, ...values }) => Object.entries(values).map(([key, value]) => ({ key: `epoch_${key}`, value, step: epoch }))),
    params: { algorithm: builtin.algorithm, ...Object.fromEntries(Object.entries(result.hyperparams).map(([k, v]) => [k, Array.isArray(v) ? JSON.stringify(v) : String(v)])) },
  };
}
