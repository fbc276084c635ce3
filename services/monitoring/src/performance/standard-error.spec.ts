import { normal, rng } from '../../../../test/support/random';
import { PerformanceAggregate, type PerformanceMetric } from './performance-aggregate';
import type { PredictionOutcome } from './prediction-outcome';
import { standardError } from './standard-error';

const options = { aucBins: 1000, positiveLabel: '1' };

type Draw = () => { outcome: PredictionOutcome; label: number | string };

function sample(draw: Draw, n: number): PerformanceAggregate {
  const aggregate = PerformanceAggregate.empty(options);
  for (let i = 0; i < n; i++) {
    const { outcome, label } = draw();
    aggregate.add(outcome, label);
  }
  return aggregate;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)) * (xs.length / (xs.length - 1)));

/**
 * The reference: the spread of the metric over many independent samples of the same
 * population. The standard error estimated from one sample should match it.
 */
function simulate(draw: Draw, n: number, metric: PerformanceMetric, samples = 1500) {
  const values: number[] = [];
  const errors: number[] = [];
  for (let s = 0; s < samples; s++) {
    const aggregate = sample(draw, n);
    values.push(aggregate.metric(metric)!);
    errors.push(standardError(aggregate, metric)!);
  }
  return { spread: sd(values), estimated: mean(errors) };
}

describe('standard error of a metric, against the spread over repeated samples', () => {
  it('accuracy', () => {
    const r = rng(1);
    const draw: Draw = () => ({ outcome: { kind: 'classification', predicted: r() < 0.9 ? '1' : '0' }, label: '1' });
    const { spread, estimated } = simulate(draw, 200, 'accuracy');
    expect(estimated / spread).toBeGreaterThan(0.9);
    expect(estimated / spread).toBeLessThan(1.1);
  });

  it('macro F1 over three classes with unequal errors', () => {
    const r = rng(2);
    const draw: Draw = () => {
      const truth = r() < 0.5 ? 'a' : r() < 0.6 ? 'b' : 'c';
      const wrong = r() < (truth === 'a' ? 0.1 : truth === 'b' ? 0.3 : 0.2);
      const predicted = wrong ? (truth === 'a' ? 'b' : truth === 'b' ? 'c' : 'a') : truth;
      return { outcome: { kind: 'classification', predicted }, label: truth };
    };
    const { spread, estimated } = simulate(draw, 300, 'f1');
    expect(estimated / spread).toBeGreaterThan(0.9);
    expect(estimated / spread).toBeLessThan(1.1);
  });

  it('ROC AUC of binormal scores (Hanley-McNeil is an approximation: within 15%)', () => {
    const r = rng(3);
    const z = normal(r);
    const draw: Draw = () => {
      const positive = r() < 0.4;
      const score = 1 / (1 + Math.exp(-(z() + (positive ? 1.2 : 0))));
      return { outcome: { kind: 'classification', predicted: score > 0.5 ? '1' : '0', score }, label: positive ? '1' : '0' };
    };
    const { spread, estimated } = simulate(draw, 200, 'roc_auc');
    expect(estimated / spread).toBeGreaterThan(0.85);
    expect(estimated / spread).toBeLessThan(1.15);
  });

  it.each(['mae', 'rmse'] as const)('%s of skewed regression errors', (metric) => {
    const r = rng(4);
    const z = normal(r);
    // errors with a heavier right tail than a normal's, so the fourth moment matters
    const draw: Draw = () => ({ outcome: { kind: 'regression', value: 10 + Math.exp(0.5 * z()) - 1 }, label: 10 });
    const { spread, estimated } = simulate(draw, 200, metric);
    expect(estimated / spread).toBeGreaterThan(0.85);
    expect(estimated / spread).toBeLessThan(1.15);
  });

  it('a perfect accuracy on few labels still has a sampling error; none for a metric the aggregate cannot give', () => {
    const perfect = sample(() => ({ outcome: { kind: 'classification', predicted: '1' }, label: '1' }), 25);
    expect(perfect.metric('accuracy')).toBe(1);
    expect(standardError(perfect, 'accuracy')).toBeGreaterThan(0.02);
    expect(standardError(perfect, 'roc_auc')).toBeUndefined();
    expect(standardError(PerformanceAggregate.empty(options), 'accuracy')).toBeUndefined();
  });

  it('an RMSE state stored before fourth powers were kept has no standard error, even after more labels', () => {
    const aggregate = sample(() => ({ outcome: { kind: 'regression', value: 1 }, label: 0 }), 10);
    delete aggregate.state.quarticError;
    aggregate.add({ kind: 'regression', value: 2 }, 0);
    expect(aggregate.metric('rmse')).toBeCloseTo(Math.sqrt(14 / 11), 12);
    expect(standardError(aggregate, 'rmse')).toBeUndefined();
    expect(standardError(aggregate, 'mae')).toBeGreaterThan(0);
  });
});
