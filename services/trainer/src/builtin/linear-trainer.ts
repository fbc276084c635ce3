import { GraphBuilder, readModel, tensor, type Signature } from '../onnx/graph';
import { featureNamesEntry } from '../onnx/feature-names';
import { DataType } from '../onnx/onnx-proto';
import { runToEnd } from './cooperative';
import { prepareData, scoring } from './prepared-data';

export type Label = number | string | boolean;

/** A numeric design matrix (row-major) and the target of each row. */
export interface TabularData {
  features: string[];
  rows: number[][];
  target: Label[];
}

export type Task = 'classification' | 'regression';

export interface TrainParams {
  task: Task;
  epochs: number;
  learningRate: number;
  l2: number;
  testFraction: number;
  seed: number;
}

export const DEFAULT_PARAMS: Omit<TrainParams, 'task'> = { epochs: 300, learningRate: 0.5, l2: 1e-4, testFraction: 0.2, seed: 42 };

export interface EpochMetrics {
  epoch: number;
  loss: number;
  val_loss?: number;
  val_accuracy?: number;
  val_rmse?: number;
}

/** The learned parameters exactly as stored in the graph (float32 values). */
export interface LinearModelParams {
  task: Task;
  mean: number[];
  std: number[];
  /** n_features x n_outputs, row-major. */
  weights: number[];
  bias: number[];
  /** Classification: the class labels in output order. */
  classes: Label[];
}

export interface TrainResult {
  model: Uint8Array;
  params: LinearModelParams;
  /** Final metrics on the held-out split (or the training rows when there is none). */
  metrics: Record<string, number>;
  history: EpochMetrics[];
  hyperparams: TrainParams;
  signature: Signature;
}

const f32 = Math.fround;

/** The TS forward pass of the exported graph, in float32 steps like onnxruntime. */
export function predict(params: LinearModelParams, rows: number[][]): number[][] {
  const n = params.mean.length;
  const k = params.bias.length;
  return rows.map((row) => {
    const z = Array.from({ length: n }, (_, j) => f32(f32(f32(row[j]) - params.mean[j]) / params.std[j]));
    const out = params.bias.map((b, c) => {
      let s = 0;
      for (let j = 0; j < n; j++) s += z[j] * params.weights[j * k + c];
      return f32(f32(s) + b);
    });
    if (params.task === 'regression') return out;
    return softmax(out).map(f32);
  });
}

export function softmax(logits: number[]): number[] {
  const max = Math.max(...logits);
  const e = logits.map((l) => Math.exp(l - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

export const compareLabels = (a: Label, b: Label) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0);

/** Classification unless the target is a float column with many distinct or fractional values. */
export function inferTask(target: Label[]): Task {
  if (target.some((v) => typeof v !== 'number')) return 'classification';
  const distinct = new Set(target);
  return target.every((v) => Number.isInteger(v)) && distinct.size <= 20 ? 'classification' : 'regression';
}

/**
 * Softmax (multinomial logistic) regression or linear regression, trained by deterministic
 * full-batch gradient descent on standardised features (mean/std of the training split,
 * stored in the graph), with L2. Exports a real ONNX graph:
 *   input -> Sub(mean) -> Div(std) -> MatMul(W) -> Add(b) -> Softmax -> probabilities
 *                                                                     -> ArgMax -> Gather(classes) -> label
 * (regression: ... -> Add(b) -> predictions). Same data and params give byte-identical bytes.
 */
export function trainLinear(data: TabularData, overrides: Partial<TrainParams> = {}): TrainResult {
  return runToEnd(linearTraining(data, overrides));
}

/** trainLinear as steps: yields after every epoch so a caller can give the event loop a turn. */
export function* linearTraining(data: TabularData, overrides: Partial<TrainParams> = {}): Generator<number, TrainResult, void> {
  const task = overrides.task ?? inferTask(data.target);
  const hp: TrainParams = { ...DEFAULT_PARAMS, ...overrides, task };
  if (!(hp.epochs >= 1) || !(hp.learningRate > 0)) throw new Error('epochs must be >= 1 and learningRate > 0');
  const n = data.features.length;
  // regression: a standardised target is fitted; its scale is folded back into W and b on export.
  const prepared = prepareData(data, task, hp);
  const { train, test, stored, Xtrain, Xtest, classes, classIndex, k, ys, yMean, yStd, yTrain } = prepared;

  const W = new Float64Array(n * k);
  const b = new Float64Array(k);
  const forward = (x: number[]) => {
    const out = Array.from({ length: k }, (_, c) => {
      let s = b[c];
      for (let j = 0; j < n; j++) s += x[j] * W[j * k + c];
      return s;
    });
    return task === 'regression' ? out : softmax(out);
  };
  const { lossOf, evaluate } = scoring(forward, task, data, prepared);

  const history: EpochMetrics[] = [];
  const m = Xtrain.length;
  for (let epoch = 1; epoch <= hp.epochs; epoch++) {
    const gW = new Float64Array(n * k);
    const gb = new Float64Array(k);
    for (let r = 0; r < m; r++) {
      const p = forward(Xtrain[r]);
      for (let c = 0; c < k; c++) {
        const d = (p[c] - yTrain[r][c]) / m;
        gb[c] += d;
        for (let j = 0; j < n; j++) gW[j * k + c] += Xtrain[r][j] * d;
      }
    }
    for (let q = 0; q < W.length; q++) W[q] -= hp.learningRate * (gW[q] + hp.l2 * W[q]);
    for (let c = 0; c < k; c++) b[c] -= hp.learningRate * gb[c];
    const entry: EpochMetrics = { epoch, loss: lossOf(Xtrain, yTrain) };
    if (Xtest.length > 0) {
      const v = evaluate(Xtest, test);
      if (task === 'regression') entry.val_rmse = v.rmse;
      else {
        entry.val_loss = v.log_loss;
        entry.val_accuracy = v.accuracy;
      }
    }
    history.push(entry);
    yield epoch;
  }

  const params: LinearModelParams = {
    task,
    ...stored,
    weights: Array.from(W, (w) => f32(w * yStd)),
    bias: Array.from(b, (v) => f32(v * yStd + yMean)),
    classes,
  };
  const heldOut = Xtest.length > 0;
  const evalRows = heldOut ? test : train;
  const final = predict(params, evalRows.map((i) => data.rows[i]));
  const metrics = {
    ...(task === 'regression'
      ? regressionMetrics(final.map((p) => p[0]), evalRows.map((i) => ys[i]))
      : classificationMetrics(final, evalRows.map((i) => classIndex.get(data.target[i])!))),
    train_loss: history[history.length - 1].loss,
    train_rows: train.length,
    test_rows: test.length,
    epochs: hp.epochs,
  };
  const model = exportGraph(params, data.features);
  return { model, params, metrics, history, hyperparams: hp, signature: readModel(model).signature };
}

export function oneHot(index: number, k: number): number[] {
  const v = new Array<number>(k).fill(0);
  v[index] = 1;
  return v;
}

export function classificationMetrics(probabilities: number[][], truth: number[]): { accuracy: number; log_loss: number } {
  let correct = 0;
  let loss = 0;
  probabilities.forEach((p, r) => {
    if (p.indexOf(Math.max(...p)) === truth[r]) correct++;
    loss += -Math.log(Math.min(Math.max(p[truth[r]], 1e-15), 1 - 1e-15));
  });
  return { accuracy: correct / truth.length, log_loss: loss / truth.length };
}

export function regressionMetrics(pred: number[], truth: number[]): { rmse: number; mae: number; r2: number } {
  const mean = truth.reduce((a, b) => a + b, 0) / truth.length;
  let se = 0;
  let ae = 0;
  let tot = 0;
  pred.forEach((p, i) => {
    se += (p - truth[i]) ** 2;
    ae += Math.abs(p - truth[i]);
    tot += (truth[i] - mean) ** 2;
  });
  return { rmse: Math.sqrt(se / truth.length), mae: ae / truth.length, r2: tot > 0 ? 1 - se / tot : 0 };
}

function exportGraph(params: LinearModelParams, features: string[]): Uint8Array {
  const n = params.mean.length;
  const k = params.bias.length;
  const g = new GraphBuilder(params.task === 'regression' ? 'linear_regression' : 'softmax_regression', 13)
    .input('input', DataType.FLOAT, ['N', n])
    .initializer(tensor('mean', [n], params.mean))
    .initializer(tensor('std', [n], params.std))
    .initializer(tensor('weights', [n, k], params.weights))
    .initializer(tensor('bias', [k], params.bias))
    .node('Sub', ['input', 'mean'], ['centered'])
    .node('Div', ['centered', 'std'], ['scaled'])
    .node('MatMul', ['scaled', 'weights'], ['linear'])
    .node('Add', ['linear', 'bias'], [params.task === 'regression' ? 'predictions' : 'logits']);
  const metadata: Record<string, string> = { task: params.task, ...featureNamesEntry(features) };
  if (params.task === 'regression') {
    g.output('predictions', DataType.FLOAT, ['N', 1]);
  } else {
    const integral = params.classes.every((c) => typeof c === 'number' && Number.isInteger(c));
    const labelValues = integral ? (params.classes as number[]) : params.classes.map((_, i) => i);
    metadata.classes = JSON.stringify(params.classes);
    g.initializer(tensor('classes', [k], labelValues, DataType.INT64))
      .node('Softmax', ['logits'], ['probabilities'], { axis: 1 })
      .node('ArgMax', ['probabilities'], ['class_index'], { axis: 1, keepdims: 0 })
      .node('Gather', ['classes', 'class_index'], ['label'], { axis: 0 })
      .output('probabilities', DataType.FLOAT, ['N', k])
      .output('label', DataType.INT64, ['N']);
  }
  return g.encode(metadata);
}
