import { rng } from '../../../../test/support/random';
import { PerformanceAggregate } from '../performance/performance-aggregate';
import { canaryVerdict } from './canary-verdict';

const options = { aucBins: 100, positiveLabel: '1' };

function regression(errors: number[]): PerformanceAggregate {
  const aggregate = PerformanceAggregate.empty(options);
  errors.forEach((e, i) => aggregate.add({ kind: 'regression', value: i + e }, i));
  return aggregate;
}

function classifier(correct: number, n: number): PerformanceAggregate {
  const aggregate = PerformanceAggregate.empty(options);
  for (let i = 0; i < n; i++) aggregate.add({ kind: 'classification', predicted: i < correct ? '1' : '0' }, 1);
  return aggregate;
}

const base = { model: 'm', version: 2, championVersion: 1, predictions: 100, minLabels: 3, tolerance: 0.05, confidence: 0.95 };
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

  it('at confidence 0.5 compares the point values: accepts a shortfall within the tolerance and rejects one just beyond it', () => {
    const champion = classifier(90, 100);
    const pointwise = { ...base, metric, confidence: 0.5 };
    expect(canaryVerdict({ ...pointwise, canary: classifier(86, 100), champion }).verdict).toBe('promote');
    expect(canaryVerdict({ ...pointwise, canary: classifier(84, 100), champion }).verdict).toBe('rollback');
  });

  it('at 95% confidence rolls back only a shortfall beyond the tolerance by more than sampling error, and says by how much', () => {
    const champion = classifier(90, 100);
    // 0.06 short on 100 labels each: within sampling error of 0.05
    expect(canaryVerdict({ ...base, metric, canary: classifier(84, 100), champion })).toMatchObject({ verdict: 'promote', confidence: 0.95 });
    const verdict = canaryVerdict({ ...base, metric, canary: classifier(70, 100), champion });
    expect(verdict).toMatchObject({ verdict: 'rollback', canaryValue: 0.7, championValue: 0.9, confidence: 0.95 });
    // 0.2 - z(0.95) * sqrt(p1(1-p1)/102 + p2(1-p2)/102), p adjusted by one right and one wrong answer
    const adjusted = (p: number) => (p * 100 + 1) / 102;
    const error = Math.hypot(...[0.7, 0.9].map((p) => Math.sqrt((adjusted(p) * (1 - adjusted(p))) / 102)));
    expect(verdict.shortfallBound).toBeCloseTo(0.2 - 1.6449 * error, 2);
    expect(verdict.reason).toContain(`at 95% confidence the shortfall is at least ${verdict.shortfallBound}`);
  });

  it('rolls back a canary short by at most the tolerance less than 1 - confidence of the time, a clearly worse one nearly always', () => {
    const r = rng(7);
    const labelled = (accuracy: number, n: number) => {
      const aggregate = PerformanceAggregate.empty(options);
      for (let i = 0; i < n; i++) aggregate.add({ kind: 'classification', predicted: r() < accuracy ? '1' : '0' }, 1);
      return aggregate;
    };
    const rollbacks = (canary: number, confidence: number, trials = 2000) => {
      let n = 0;
      for (let t = 0; t < trials; t++) {
        const verdict = canaryVerdict({ ...base, metric, confidence, canary: labelled(canary, 50), champion: labelled(0.96, 50) });
        if (verdict.verdict === 'rollback') n++;
      }
      return n / trials;
    };
    // the defaults: 50 labels each, tolerance 0.05
    expect(rollbacks(0.96, 0.95)).toBeLessThan(0.05);
    expect(rollbacks(0.96, 0.5)).toBeGreaterThan(0.05);
    // short by exactly the tolerance: the bound the confidence promises (about 3.5% measured)
    expect(rollbacks(0.91, 0.95, 4000)).toBeLessThan(0.05);
    // the price of that on 50 labels: a canary at 0.7 is caught about 9 times in 10, at 0.6 nearly always
    expect(rollbacks(0.7, 0.95)).toBeGreaterThan(0.85);
    expect(rollbacks(0.6, 0.95)).toBeGreaterThan(0.98);
  });

  it('without a sampling error for stored labels, falls back to the point values and says so', () => {
    const canary = regression([1, -1, 1]);
    delete canary.state.quarticError;
    const verdict = canaryVerdict({ ...base, metric, canary, champion: regression([0.5, -0.5, 0.5]) });
    expect(verdict).toMatchObject({ verdict: 'rollback', shortfallBound: 0.5 });
    expect(verdict.reason).toContain('sampling error unknown for these stored labels');
  });

  it('promotes on predictions alone without enough labels on either side, and says which', () => {
    const verdict = canaryVerdict({ ...base, metric, canary: regression([5, 5, 5]), champion: regression([0]) });
    expect(verdict).toMatchObject({ verdict: 'promote', labels: 3 });
    expect(verdict.metric).toBeUndefined();
    expect(verdict.reason).toContain('labels 3 (canary) and 1 (champion v1) of the 3 each needed');
  });

  it('judges a shadow by the same rules and reports its agreement with the champion on the same requests', () => {
    const champion = classifier(90, 100);
    const dropped = canaryVerdict({ ...base, metric, canary: classifier(60, 100), champion, shadow: { compared: 200, agreed: 150 } });
    expect(dropped).toMatchObject({ verdict: 'rollback', strategy: 'shadow', agreement: { compared: 200, share: 0.75 }, canaryValue: 0.6, championValue: 0.9 });
    expect(dropped.reason).toMatch(/^shadow accuracy 0\.6 is worse than champion v1 0\.9 .*; shadow agreed with the champion on 75% of 200 requests$/);
    // the same labels as a canary: the same verdict, no shadow fields
    const asCanary = canaryVerdict({ ...base, metric, canary: classifier(60, 100), champion });
    expect(asCanary.verdict).toBe('rollback');
    expect(asCanary).not.toHaveProperty('strategy');
    const kept = canaryVerdict({ ...base, metric, canary: classifier(91, 100), champion, shadow: { compared: 10, agreed: 10 } });
    expect(kept).toMatchObject({ verdict: 'promote', strategy: 'shadow', agreement: { compared: 10, share: 1 } });
  });
});
