import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { quantileSorted } from 'simple-statistics';
import { decodeHoldoutNpy, type HoldoutRows, type PayloadOf } from '@mlops/contracts';
import type { LoadedModel } from './model-repository';

export type DeploymentValidation = NonNullable<PayloadOf<'deployment.requested'>['validation']>;
export type DeploymentCheck = NonNullable<PayloadOf<'deployment.completed'>['checks']>[number];

/** Holdout rows timed at most: the p99 of more would not change a release decision, and the deployment waits for them. */
export const TIMED_ROWS = 200;
/** Requests before timing: onnxruntime's first runs allocate. */
export const UNTIMED_RUNS = 5;

/**
 * The latency check of a deployment.requested `validation`, on a loaded and warmed version that
 * takes no traffic yet: the holdout rows (NPY float32 [rows, features], `holdoutUri`) go through
 * the version one row per request, as a request does (LoadedModel.infer, through the batcher and
 * its queue delay), UNTIMED_RUNS first, then the first TIMED_ROWS timed by wall clock; their p99
 * must not exceed the bound. No holdout to time (none given, unreadable, or not the model's
 * input) fails the check: a latency bound is not waived for lack of a measurement.
 */
export async function latencyCheck(model: LoadedModel, validation: DeploymentValidation, readPath: (uri: string) => string): Promise<DeploymentCheck> {
  const bound = validation.latencyP99Ms;
  const unmeasured = (detail: string): DeploymentCheck => ({ name: 'latency', passed: false, measured: null, bound, detail });
  if (!validation.holdoutUri) return unmeasured('no holdout rows to time (deployment.requested validation has no holdoutUri: the version was registered without the holdout.npy training writes)');
  let holdout: HoldoutRows;
  try {
    holdout = decodeHoldoutNpy(await readFile(readPath(validation.holdoutUri)));
  } catch (error) {
    return unmeasured(`the holdout rows at ${validation.holdoutUri} cannot be read: ${(error as Error).message}`);
  }
  const problem = inputProblem(model, holdout);
  if (problem) return unmeasured(problem);
  if (holdout.rows === 0) return unmeasured(`the holdout at ${validation.holdoutUri} has no rows`);

  const [input] = model.inputs;
  const rowAt = (i: number) => ({ [input.name]: { datatype: 'FP32' as const, shape: [1, holdout.features], data: holdout.data.slice(i * holdout.features, (i + 1) * holdout.features) } });
  const timed = Math.min(holdout.rows, TIMED_ROWS);
  for (let i = 0; i < UNTIMED_RUNS; i++) await model.infer(rowAt(i % timed), 1);
  const samples: number[] = [];
  for (let i = 0; i < timed; i++) {
    const feeds = rowAt(i);
    const started = performance.now();
    await model.infer(feeds, 1);
    samples.push(performance.now() - started);
  }
  const measured = Math.round(quantileSorted(samples.sort((a, b) => a - b), 0.99) * 1000) / 1000;
  const passed = measured <= bound;
  const how = `${timed} holdout rows, one per request, after ${UNTIMED_RUNS} untimed`;
  return { name: 'latency', passed, measured, bound, detail: `p99 ${measured} ms ${passed ? '<=' : '>'} bound ${bound} ms (${how})` };
}

/** Why the holdout rows cannot be fed to the model as one FP32 [1, features] input, if they cannot. */
function inputProblem(model: LoadedModel, holdout: HoldoutRows): string | undefined {
  if (model.inputs.length !== 1) return `the model has ${model.inputs.length} inputs; the holdout rows feed one FP32 [n, features] input`;
  const [input] = model.inputs;
  if (input.datatype !== 'FP32') return `the model's input '${input.name}' is ${input.datatype}; the holdout rows are FP32`;
  const width = input.shape[1];
  if (input.shape.length !== 2 || (width !== -1 && width !== holdout.features)) {
    return `the model's input '${input.name}' has shape [${input.shape.join(', ')}]; the holdout rows are [n, ${holdout.features}]`;
  }
  return undefined;
}
