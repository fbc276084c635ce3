import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { quantileSorted } from 'simple-statistics';
import { encodeHoldoutNpy } from '@mlops/contracts';
import { compareLabels, inferTask, type Label, type TabularData, type Task } from '../builtin/linear-trainer';
import { holdoutSplit } from '../builtin/random';

/** Rows timed one request each (the p99 of more would not change a release decision). */
const LATENCY_ROWS = 500;
/** Slices reported at most (tracking takes 1,000 metrics a request; a key column is no slice). */
export const MAX_SLICES = 100;
/** Requests before timing: onnxruntime's first runs allocate. */
const WARMUP_RUNS = 10;

/** What the release policy reads of a trained model, measured on the holdout. */
export interface HoldoutEvaluationInput {
  /** The exported model.onnx. */
  model: Uint8Array;
  data: TabularData;
  /** The trainer's holdout split (params.testFraction, params.seed; the built-in trainer's defaults 0.2 and 42). */
  split: { testFraction: number; seed: number };
  task?: Task;
  /** params.slice_column: its value per dataset row. */
  slices?: { column: string; values: (Label | null)[] };
}

/** A slice value as a metric key part: tracking accepts letters, digits, `_ - . : space`. */
export const sliceKey = (value: Label | null) => (value === null ? 'missing' : String(value).replace(/[^A-Za-z0-9_\-.: ]/g, '_') || '_');

/**
 * The p99 per-request latency of the model in onnxruntime-node, one holdout row per request, as
 * the training metric `inference_p99_ms` (a release policy's latency bound is held by serving,
 * on holdout.npy); with slices, the metric per slice value on the holdout
 * (`accuracy/<column>/<value>`; regression: `rmse/...` and `mae/...`).
 */
export async function evaluateOnHoldout(input: HoldoutEvaluationInput): Promise<Record<string, number>> {
  const { data } = input;
  const test = holdoutRowIndices(data.rows.length, input.split);
  const groups = new Map<string, number[]>();
  if (input.slices) {
    test.forEach((row, r) => {
      const key = sliceKey(input.slices!.values[row] ?? null);
      groups.set(key, [...(groups.get(key) ?? []), r]);
    });
    if (groups.size > MAX_SLICES) throw new Error(`params.slice_column '${input.slices.column}' has ${groups.size} values on the holdout; at most ${MAX_SLICES} slices are reported`);
  }
  const session = await ort.InferenceSession.create(input.model);
  try {
    if (session.inputNames.length !== 1) throw new Error(`the model has ${session.inputNames.length} inputs; holdout evaluation feeds one FP32 [n, features] input`);
    const inputName = session.inputNames[0];
    const width = data.features.length;
    const tensor = (rows: number[]) => new ort.Tensor('float32', Float32Array.from(rows.flatMap((i) => data.rows[i])), [rows.length, width]);
    const metrics: Record<string, number> = {};

    const timed = test.slice(0, LATENCY_ROWS);
    for (let i = 0; i < WARMUP_RUNS; i++) await session.run({ [inputName]: tensor([timed[i % timed.length]]) });
    const samples: number[] = [];
    for (const row of timed) {
      const feeds = { [inputName]: tensor([row]) };
      const start = performance.now();
      await session.run(feeds);
      samples.push(performance.now() - start);
    }
    metrics.inference_p99_ms = Math.round(quantileSorted(samples.sort((a, b) => a - b), 0.99) * 1000) / 1000;

    if (input.slices) {
      const task = input.task ?? inferTask(data.target);
      const outputs = await session.run({ [inputName]: tensor(test) });
      const predicted = task === 'classification' ? predictedClasses(outputs, session.outputNames, test.length) : predictedValues(outputs, session.outputNames);
      const truth = task === 'classification' ? encodedClasses(data.target) : (data.target as number[]);
      for (const [value, members] of groups) {
        const prefix = (metric: string) => `${metric}/${input.slices!.column}/${value}`;
        if (task === 'classification') {
          metrics[prefix('accuracy')] = members.filter((r) => predicted[r] === truth[test[r]]).length / members.length;
        } else {
          const errors = members.map((r) => predicted[r] - truth[test[r]]);
          metrics[prefix('rmse')] = Math.sqrt(errors.reduce((s, e) => s + e * e, 0) / errors.length);
          metrics[prefix('mae')] = errors.reduce((s, e) => s + Math.abs(e), 0) / errors.length;
        }
      }
    }
    return metrics;
  } finally {
    await session.release().catch(() => undefined);
  }
}

/** The dataset rows of the holdout; without a held-out part (testFraction 0), every row (the model is measured on the rows it trained on). */
export function holdoutRowIndices(rows: number, split: HoldoutEvaluationInput['split']): number[] {
  const { test } = holdoutSplit(rows, split.testFraction, split.seed);
  return test.length > 0 ? test : Array.from({ length: rows }, (_, i) => i);
}

/** Rows written to holdout.npy at most: serving times far fewer. */
export const HOLDOUT_FILE_ROWS = 1_000;

/** The first HOLDOUT_FILE_ROWS holdout rows' features as NPY float32 [rows, features] (holdout.npy beside the model). */
export function holdoutNpy(data: TabularData, split: HoldoutEvaluationInput['split']): Buffer {
  return encodeHoldoutNpy(holdoutRowIndices(data.rows.length, split).slice(0, HOLDOUT_FILE_ROWS).map((i) => data.rows[i]), data.features.length);
}

/** The built-in graphs' `label`: the class itself when every class is an integer, else its index among the sorted classes. */
function encodedClasses(target: Label[]): number[] {
  const classes = [...new Set(target)].sort(compareLabels);
  const integral = classes.every((c) => typeof c === 'number' && Number.isInteger(c));
  const index = new Map(classes.map((c, i) => [c, i]));
  return target.map((y) => (integral ? (y as number) : index.get(y)!));
}

/** An INT64 output (`label` by preference), or the argmax of a 2-D float output (probabilities). */
function predictedClasses(outputs: ort.InferenceSession.OnnxValueMapType, names: readonly string[], rows: number): number[] {
  const labelName = names.includes('label') ? 'label' : names.find((n) => outputs[n].type === 'int64' || outputs[n].type === 'int32');
  if (labelName) return Array.from(outputs[labelName].data as ArrayLike<number | bigint>, Number);
  const scores = outputs[names[0]];
  const classes = scores.dims.length === 2 ? scores.dims[1] : 1;
  const data = scores.data as Float32Array;
  return Array.from({ length: rows }, (_, r) => {
    if (classes === 1) return data[r] >= 0.5 ? 1 : 0;
    let best = 0;
    for (let c = 1; c < classes; c++) if (data[r * classes + c] > data[r * classes + best]) best = c;
    return best;
  });
}

/** `predictions` by preference, else the first output: one value per row. */
function predictedValues(outputs: ort.InferenceSession.OnnxValueMapType, names: readonly string[]): number[] {
  return Array.from(outputs[names.includes('predictions') ? 'predictions' : names[0]].data as Float32Array, Number);
}
