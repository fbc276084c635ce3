import { classificationMetrics, compareLabels, oneHot, regressionMetrics, type Label, type TabularData, type Task } from './linear-trainer';
import { holdoutSplit } from './random';

const f32 = Math.fround;

/** What every built-in trainer fits on: a seeded holdout split, standardised features, encoded targets. */
export interface PreparedData {
  train: number[];
  test: number[];
  /** Per-feature mean and std (float32, as stored in the graph's Sub/Div). */
  stored: { mean: number[]; std: number[] };
  Xtrain: number[][];
  Xtest: number[][];
  /** Sorted class labels (classification; empty for regression) and their indexes. */
  classes: Label[];
  classIndex: Map<Label, number>;
  /** Output width: the number of classes, or 1 for regression. */
  k: number;
  /** Regression targets and their standardisation (the scale is folded back on export). */
  ys: number[];
  yMean: number;
  yStd: number;
  /** One-hot classes, or the standardised regression target, per training row. */
  yTrain: number[][];
}

export function prepareData(data: TabularData, task: Task, split: { testFraction: number; seed: number }): PreparedData {
  const n = data.features.length;
  if (n === 0) throw new Error('no numeric feature columns to train on');
  if (data.rows.length < 2) throw new Error(`too few rows to train on (${data.rows.length})`);
  const { train, test } = holdoutSplit(data.rows.length, split.testFraction, split.seed);
  const mean = new Array<number>(n).fill(0);
  const variance = new Array<number>(n).fill(0);
  for (const i of train) for (let j = 0; j < n; j++) mean[j] += data.rows[i][j] / train.length;
  for (const i of train) for (let j = 0; j < n; j++) variance[j] += (data.rows[i][j] - mean[j]) ** 2 / train.length;
  const stored = { mean: mean.map(f32), std: variance.map((v) => f32(Math.sqrt(v) > 1e-12 ? Math.sqrt(v) : 1)) };
  const scale = (i: number) => data.rows[i].map((v, j) => (f32(v) - stored.mean[j]) / stored.std[j]);

  const classes = task === 'classification' ? [...new Set(data.target)].sort(compareLabels) : [];
  if (task === 'classification' && classes.length < 2) throw new Error(`the target has ${classes.length} class(es); classification needs at least 2`);
  const classIndex = new Map(classes.map((c, i) => [c, i]));
  const k = task === 'classification' ? classes.length : 1;
  const ys = task === 'regression' ? (data.target as number[]) : [];
  const yMean = task === 'regression' ? train.reduce((s, i) => s + ys[i], 0) / train.length : 0;
  const yStdRaw = task === 'regression' ? Math.sqrt(train.reduce((s, i) => s + (ys[i] - yMean) ** 2, 0) / train.length) : 1;
  const yStd = yStdRaw > 1e-12 ? yStdRaw : 1;
  const yTrain = train.map((i) => (task === 'regression' ? [(ys[i] - yMean) / yStd] : oneHot(classIndex.get(data.target[i])!, k)));
  return { train, test, stored, Xtrain: train.map(scale), Xtest: test.map(scale), classes, classIndex, k, ys, yMean, yStd, yTrain };
}

/**
 * The loss (mean squared error / 2, or cross-entropy) and the held-out metrics of a model given
 * its forward pass over standardised rows; regression outputs are scaled back to the target.
 */
export function scoring(forward: (x: number[]) => number[], task: Task, data: TabularData, prepared: PreparedData) {
  const { ys, yMean, yStd, classIndex } = prepared;
  return {
    lossOf(X: number[][], Y: number[][]): number {
      let loss = 0;
      X.forEach((x, r) => {
        const p = forward(x);
        loss += task === 'regression' ? (p[0] - Y[r][0]) ** 2 / 2 : -Math.log(Math.max(p[Y[r].indexOf(1)], 1e-15));
      });
      return loss / X.length;
    },
    evaluate(X: number[][], idx: number[]): Record<string, number> {
      const out = X.map(forward);
      if (task === 'regression') return regressionMetrics(out.map((p) => p[0] * yStd + yMean), idx.map((i) => ys[i]));
      return classificationMetrics(out, idx.map((i) => classIndex.get(data.target[i])!));
    },
  };
}
