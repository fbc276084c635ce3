import { PerformanceAggregate } from '../performance/performance-aggregate';
import { canaryVerdict } from './canary-verdict';

const options = { aucBins: 100, positiveLabel: '1' };

function regression(errors: number[]): PerformanceAggregate {
  const aggregate = PerformanceAggregate.empty(options);
  errors.forEach((e, i) => aggregate.add({ kind: 'regression', value: i + e }, i));
  return aggregate;
}

const base = { model: 'm', version: 2, championVersion: 1, predictions: 100, minLabels: 3, tolerance: 0.05 };
const metric = (kind: 'classification' | 'regression') => (kind === 'classification' ? ('accuracy' as const) : ('rmse' as const));

describe('canary verdict', () => {
  it('rolls back a regressor whose RMSE is higher than the champion\'s by more than the tolerance (lower is better)', () => {
    const verdict = canaryVerdict({ ...base, metric, canary: regression([1, -1, 1]), champion: regression([0.5, -0.5, 0.5]) });
    expect(verdict).toMatchObject({ verdict: 'rollback', metric: 'rmse', canaryValue: 1, championValue: 0.5, labels: 3 });
  });

  it('promotes a regressor with a lower RMSE than the champion', () => {
    const verdict = canaryVerdict({ ...base, metric, canary: regression([0.1, 0.1, 0.1]), champion: regression([1, 1, 1]) });
    expect(verdict).toMatchObject({ verdict: 'promote', metric: 'rmse' });
    expect(verdict.canaryValue).toBeCloseTo(0.1, 12);
  });

  it('accepts a shortfall within the tolerance and rejects one just beyond it', () => {
    const classifier = (correct: number, n: number) => {
      const aggregate = PerformanceAggregate.empty(options);
      for (let i = 0; i < n; i++) aggregate.add({ kind: 'classification', predicted: i < correct ? '1' : '0' }, 1);
      return aggregate;
    };
    const champion = classifier(90, 100);
    expect(canaryVerdict({ ...base, metric, canary: classifier(86, 100), champion }).verdict).toBe('promote');
    expect(canaryVerdict({ ...base, metric, canary: classifier(84, 100), champion }).verdict).toBe('rollback');
  });

  it('promotes on predictions alone without enough labels on either side, and says which', () => {
    const verdict = canaryVerdict({ ...base, metric, canary: regression([5, 5, 5]), champion: regression([0]) });
    expect(verdict).toMatchObject({ verdict: 'promote', labels: 3 });
    expect(verdict.metric).toBeUndefined();
    expect(verdict.reason).toContain('labels 3 (canary) and 1 (champion v1) of the 3 each needed');
  });
});
