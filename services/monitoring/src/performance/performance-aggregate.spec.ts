import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { interopPython } from '../../../../test/support/python';
import { PerformanceAggregate } from './performance-aggregate';
import { outcomeOf } from './prediction-outcome';

interface Case {
  truth: number[];
  predicted: number[];
  score?: number[];
  accuracy?: number;
  f1?: number;
  roc_auc?: number;
  mae?: number;
  rmse?: number;
}

const BINS = 1000;
const options = { aucBins: BINS, positiveLabel: '1' };
const names = { label: 'label', probabilities: 'probabilities', prediction: 'predictions' };

/** Feeds a case through serving-shaped outputs, one labelled prediction at a time. */
function classify(c: Case): PerformanceAggregate {
  const aggregate = PerformanceAggregate.empty(options);
  c.truth.forEach((truth, i) => {
    const outputs = c.score ? { label: c.predicted[i], probabilities: [1 - c.score[i], c.score[i]] } : { label: c.predicted[i] };
    expect(aggregate.add(outcomeOf(outputs, names)!, truth)).toBe(true);
  });
  return aggregate;
}

/** Half the share of positive/negative pairs whose scores share a histogram bin: the AUC error bound. */
function tiedPairShare(c: Case): number {
  const pos = new Map<number, number>();
  const neg = new Map<number, number>();
  let p = 0;
  let n = 0;
  c.truth.forEach((t, i) => {
    const bin = Math.min(BINS - 1, Math.floor(c.score![i] * BINS));
    const map = t === 1 ? pos : neg;
    map.set(bin, (map.get(bin) ?? 0) + 1);
    if (t === 1) p++;
    else n++;
  });
  let tied = 0;
  for (const [bin, count] of pos) tied += count * (neg.get(bin) ?? 0);
  return tied / (p * n) / 2;
}

describe('performance metrics against scikit-learn', () => {
  let ref: Record<'binary' | 'binary_grid' | 'multiclass' | 'regression', Case>;
  beforeAll(() => {
    const script = resolve(__dirname, '../../../../test/fixtures/drift/performance_reference.py');
    ref = JSON.parse(execFileSync(interopPython(), [script], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }));
  });

  it('has every case with the sizes performance_reference.py draws (a short array would compare less)', () => {
    const sizes = Object.fromEntries(Object.entries(ref).map(([name, c]) => [name, [c.truth.length, c.predicted.length, c.score?.length]]));
    expect(sizes).toEqual({ binary: [5000, 5000, 5000], binary_grid: [3000, 3000, 3000], multiclass: [4000, 4000, undefined], regression: [4000, 4000, undefined] });
  });

  it('binary: accuracy and macro F1 exactly; histogram ROC AUC within its tied-pair bound', () => {
    const c = ref.binary;
    const metrics = classify(c).metrics();
    expect(metrics.accuracy).toBeCloseTo(c.accuracy!, 12);
    expect(metrics.f1).toBeCloseTo(c.f1!, 12);
    const bound = tiedPairShare(c);
    expect(bound).toBeLessThan(0.002);
    expect(Math.abs(metrics.roc_auc! - c.roc_auc!)).toBeLessThanOrEqual(bound + 1e-12);
    // the bound is not vacuous: a coarse histogram is measurably off
    const coarse = PerformanceAggregate.empty({ aucBins: 10, positiveLabel: '1' });
    c.truth.forEach((t, i) => coarse.add({ kind: 'classification', predicted: String(c.predicted[i]), score: c.score![i] }, t));
    expect(Math.abs(coarse.metric('roc_auc')! - c.roc_auc!)).toBeGreaterThan(0.001);
  });

  it('binary: ROC AUC is exact when every distinct score has its own bin', () => {
    const c = ref.binary_grid;
    expect(classify(c).metric('roc_auc')).toBeCloseTo(c.roc_auc!, 12);
  });

  it('multiclass: accuracy and macro F1 over every class seen as truth or prediction; no AUC', () => {
    const c = ref.multiclass;
    const metrics = classify(c).metrics();
    expect(metrics.accuracy).toBeCloseTo(c.accuracy!, 12);
    expect(metrics.f1).toBeCloseTo(c.f1!, 12);
    expect(metrics.roc_auc).toBeUndefined();
  });

  it('regression: MAE and RMSE', () => {
    const c = ref.regression;
    const aggregate = PerformanceAggregate.empty(options);
    c.truth.forEach((t, i) => aggregate.add(outcomeOf({ predictions: [c.predicted[i]] }, names)!, t));
    expect(aggregate.metric('mae')).toBeCloseTo(c.mae!, 10);
    expect(aggregate.metric('rmse')).toBeCloseTo(c.rmse!, 10);
    expect(aggregate.labels).toBe(c.truth.length);
  });
});

describe('performance aggregate', () => {
  it('reads the predicted class from the label output, else the argmax of the probabilities', () => {
    expect(outcomeOf({ label: 2, probabilities: [0.1, 0.2, 0.7] }, names)).toEqual({ kind: 'classification', predicted: '2', score: undefined });
    expect(outcomeOf({ probabilities: [0.3, 0.7] }, names)).toEqual({ kind: 'classification', predicted: '1', score: 0.7 });
    expect(outcomeOf({ predictions: 3.5 }, names)).toEqual({ kind: 'regression', value: 3.5 });
    expect(outcomeOf({ score: 0.5 }, names)).toBeUndefined();
  });

  it('refuses a label that does not fit the model kind, counting nothing', () => {
    const aggregate = PerformanceAggregate.empty(options);
    expect(aggregate.add({ kind: 'regression', value: 1 }, 'cat')).toBe(false);
    expect(aggregate.add({ kind: 'regression', value: 1 }, 3)).toBe(true);
    expect(aggregate.add({ kind: 'classification', predicted: '1' }, 1)).toBe(false);
    expect(aggregate.labels).toBe(1);
    expect(aggregate.metrics()).toEqual({ mae: 2, rmse: 2 });
  });

  it('survives a JSON round trip (what the store keeps)', () => {
    const a = PerformanceAggregate.empty(options);
    [[0.9, 1], [0.2, 0], [0.6, 0], [0.4, 1]].forEach(([s, t]) => a.add({ kind: 'classification', predicted: s >= 0.5 ? '1' : '0', score: s }, t));
    const b = new PerformanceAggregate(JSON.parse(JSON.stringify(a.state)), options);
    expect(b.metrics()).toEqual(a.metrics());
    expect(a.metric('roc_auc')).toBe(0.75);
  });
});
