import type { PredictionOutcome } from './prediction-outcome';

export type PerformanceMetric = 'accuracy' | 'f1' | 'roc_auc' | 'mae' | 'rmse';

export const HIGHER_IS_BETTER: Record<PerformanceMetric, boolean> = {
  accuracy: true,
  f1: true,
  roc_auc: true,
  mae: false,
  rmse: false,
};

/** Serializable state of one aggregate; stored as JSON. */
export interface AggregateState {
  kind?: 'classification' | 'regression';
  labels: number;
  /** classification: truth -> predicted -> count */
  confusion: Record<string, Record<string, number>>;
  /** binary classification: score histograms of positive and negative truths (sparse: bin -> count) */
  positives: Record<string, number>;
  negatives: Record<string, number>;
  /** regression */
  absError: number;
  squaredError: number;
  /** Sum of fourth powers of the errors, for RMSE's sampling error; absent in states stored before it was kept. */
  quarticError?: number;
}

export interface AggregateOptions {
  /** Bins over [0, 1] of the score histogram behind ROC AUC. */
  aucBins: number;
  /** The label (as text) of the positive class of a binary model. */
  positiveLabel: string;
}

export function emptyAggregate(): AggregateState {
  return { labels: 0, confusion: {}, positives: {}, negatives: {}, absError: 0, squaredError: 0, quarticError: 0 };
}

/** Every class seen as truth or prediction, with its right answers, truths and predictions. */
export function classTotals(confusion: AggregateState['confusion']): Map<string, { right: number; truths: number; predictions: number }> {
  const classes = new Map<string, { right: number; truths: number; predictions: number }>();
  const of = (c: string) => {
    let totals = classes.get(c);
    if (!totals) classes.set(c, (totals = { right: 0, truths: 0, predictions: 0 }));
    return totals;
  };
  for (const [truth, row] of Object.entries(confusion)) {
    for (const [predicted, count] of Object.entries(row)) {
      of(truth).truths += count;
      of(predicted).predictions += count;
      if (truth === predicted) of(truth).right += count;
    }
  }
  return classes;
}

/**
 * Incremental performance of one model version from labelled predictions: O(1) per label
 * (plus O(classes) for F1, O(bins) for AUC when read). Classification: accuracy, macro F1
 * over the classes seen, binary ROC AUC; regression: MAE, RMSE.
 *
 * ROC AUC uses a fixed-bin histogram of the positive-class score: pairs in different bins
 * are ordered exactly, pairs in the same bin count as ties (1/2), the Mann-Whitney
 * convention. The result is exact when every score sits in its own bin or all tied scores
 * are equal (e.g. scores on a grid of the bins); otherwise the error is at most half the
 * share of positive/negative pairs that share a bin.
 */
export class PerformanceAggregate {
  constructor(
    readonly state: AggregateState,
    private readonly options: AggregateOptions,
  ) {}

  static empty(options: AggregateOptions): PerformanceAggregate {
    return new PerformanceAggregate(emptyAggregate(), options);
  }

  clone(): PerformanceAggregate {
    return new PerformanceAggregate(structuredClone(this.state), this.options);
  }

  get labels(): number {
    return this.state.labels;
  }

  get kind(): AggregateState['kind'] {
    return this.state.kind;
  }

  /** Adds one labelled prediction; false (and nothing counted) when label and outcome do not fit. */
  add(outcome: PredictionOutcome, label: number | string): boolean {
    const s = this.state;
    if (s.kind !== undefined && s.kind !== outcome.kind) return false;
    if (outcome.kind === 'regression') {
      const truth = Number(label);
      if (typeof label !== 'number' && (typeof label !== 'string' || label.trim() === '')) return false;
      if (!Number.isFinite(truth)) return false;
      const error = outcome.value - truth;
      s.absError += Math.abs(error);
      s.squaredError += error * error;
      // A state stored without the sum keeps none rather than one over part of its labels.
      if (s.quarticError !== undefined) s.quarticError += error ** 4;
    } else {
      const truth = String(label);
      const row = (s.confusion[truth] ??= {});
      row[outcome.predicted] = (row[outcome.predicted] ?? 0) + 1;
      if (outcome.score !== undefined && Number.isFinite(outcome.score)) {
        const bins = this.options.aucBins;
        const bin = String(Math.min(bins - 1, Math.max(0, Math.floor(outcome.score * bins))));
        const histogram = truth === this.options.positiveLabel ? s.positives : s.negatives;
        histogram[bin] = (histogram[bin] ?? 0) + 1;
      }
    }
    s.kind = outcome.kind;
    s.labels++;
    return true;
  }

  /** Every metric this aggregate can give now (none before its first label). */
  metrics(): Partial<Record<PerformanceMetric, number>> {
    const s = this.state;
    if (s.labels === 0) return {};
    if (s.kind === 'regression') return { mae: s.absError / s.labels, rmse: Math.sqrt(s.squaredError / s.labels) };
    const out: Partial<Record<PerformanceMetric, number>> = { accuracy: this.accuracy(), f1: this.macroF1() };
    const auc = this.rocAuc();
    if (auc !== undefined) out.roc_auc = auc;
    return out;
  }

  metric(name: PerformanceMetric): number | undefined {
    return this.metrics()[name];
  }

  private accuracy(): number {
    let correct = 0;
    for (const [truth, row] of Object.entries(this.state.confusion)) correct += row[truth] ?? 0;
    return correct / this.state.labels;
  }

  /** Unweighted mean of per-class F1 over every class seen as truth or prediction (sklearn's average='macro'). */
  private macroF1(): number {
    const classes = classTotals(this.state.confusion);
    let sum = 0;
    for (const { right, truths, predictions } of classes.values()) {
      const denominator = truths + predictions;
      sum += denominator === 0 ? 0 : (2 * right) / denominator;
    }
    return sum / classes.size;
  }

  /** Binary ROC AUC from the score histograms; undefined without both classes scored. */
  private rocAuc(): number | undefined {
    const { positives, negatives } = this.state;
    const bins = this.options.aucBins;
    let totalPositives = 0;
    let totalNegatives = 0;
    for (const n of Object.values(positives)) totalPositives += n;
    for (const n of Object.values(negatives)) totalNegatives += n;
    if (totalPositives === 0 || totalNegatives === 0) return undefined;
    // Walk bins from the top: each negative beats no positive above it, ties half.
    let positivesAbove = 0;
    let pairs = 0;
    for (let b = bins - 1; b >= 0; b--) {
      const p = positives[b] ?? 0;
      const n = negatives[b] ?? 0;
      pairs += n * (positivesAbove + p / 2);
      positivesAbove += p;
    }
    return pairs / (totalPositives * totalNegatives);
  }
}
