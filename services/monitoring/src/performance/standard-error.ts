import { classTotals, type AggregateState, type PerformanceAggregate, type PerformanceMetric } from './performance-aggregate';

/**
 * The standard error of a metric read from an aggregate's labels: how far it may lie from the
 * version's true value by sampling alone (normal approximation). Undefined when the aggregate
 * cannot say: no value for the metric, or an RMSE state stored before fourth powers were kept.
 *
 * - accuracy: binomial, with one right and one wrong answer added (Agresti-Caffo), so a
 *   perfect score on few labels is not taken as certain;
 * - f1 (macro): delta method on the multinomial confusion matrix;
 * - roc_auc: Hanley & McNeil (1982);
 * - mae: sample standard deviation of the absolute errors over sqrt(n);
 * - rmse: delta method on the mean squared error, from the sums of squared and fourth powers.
 */
export function standardError(aggregate: PerformanceAggregate, metric: PerformanceMetric): number | undefined {
  const value = aggregate.metric(metric);
  if (value === undefined) return undefined;
  const s = aggregate.state;
  const n = s.labels;
  switch (metric) {
    case 'accuracy': {
      const adjusted = (value * n + 1) / (n + 2);
      return Math.sqrt((adjusted * (1 - adjusted)) / (n + 2));
    }
    case 'f1':
      return macroF1Error(s.confusion, n);
    case 'roc_auc':
      return aucError(value, total(s.positives), total(s.negatives));
    case 'mae': {
      if (n < 2) return undefined;
      const variance = Math.max(0, s.squaredError / n - value * value);
      return Math.sqrt(variance / (n - 1));
    }
    case 'rmse': {
      if (n < 2 || s.quarticError === undefined) return undefined;
      const mse = s.squaredError / n;
      if (mse === 0) return 0;
      const variance = Math.max(0, s.quarticError / n - mse * mse);
      return Math.sqrt(variance / (n - 1)) / (2 * Math.sqrt(mse));
    }
  }
}

const total = (histogram: Record<string, number>) => Object.values(histogram).reduce((a, b) => a + b, 0);

function aucError(auc: number, positives: number, negatives: number): number {
  const q1 = auc / (2 - auc);
  const q2 = (2 * auc * auc) / (1 + auc);
  const variance = (auc * (1 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc)) / (positives * negatives);
  return Math.sqrt(Math.max(0, variance));
}

/**
 * Macro F1 = mean over classes c of 2 p_cc / (r_c + k_c), with p the cell shares, r_c the
 * share of truths c and k_c the share of predictions c. Its gradient g over the cells gives
 * Var = (sum g^2 p - (sum g p)^2) / n.
 */
function macroF1Error(confusion: AggregateState['confusion'], n: number): number {
  const classes = classTotals(confusion);
  // d F1_c / d p_ij: 2/D_c when i = j = c, minus 2 p_cc / D_c^2 for each of i, j equal to c
  // (D_c = r_c + k_c; a class seen at all has D_c > 0).
  const denominator = (c: string) => (classes.get(c)!.truths + classes.get(c)!.predictions) / n;
  const falls = (c: string) => (2 * classes.get(c)!.right) / n / denominator(c) ** 2;
  let mean = 0;
  let square = 0;
  for (const [truth, row] of Object.entries(confusion)) {
    for (const [predicted, count] of Object.entries(row)) {
      const p = count / n;
      let gradient = -falls(truth) - falls(predicted);
      if (truth === predicted) gradient += 2 / denominator(truth);
      gradient /= classes.size;
      mean += gradient * p;
      square += gradient * gradient * p;
    }
  }
  return Math.sqrt(Math.max(0, square - mean * mean) / n);
}
