import { execFileSync } from 'node:child_process';
import { interopPython } from '../../../../test/support/python';
import { PerformanceAggregate } from '../performance/performance-aggregate';
import { abVerdict, twoProportionZTest } from './ab-verdict';

/** Successes and trials of champion (a) and challenger (b), from even to clearly different. */
const CASES = [
  { a: [80, 100], b: [80, 100] },
  { a: [80, 100], b: [88, 100] },
  { a: [160, 200], b: [181, 200] },
  { a: [45, 60], b: [30, 60] },
  { a: [900, 1000], b: [915, 1000] },
  { a: [12, 50], b: [30, 70] },
];

/** z and the two-sided p-value of the pooled two-proportion z-test, computed with scipy.stats.norm. */
const SCRIPT = `
import json, math, sys
from scipy.stats import norm
out = []
for c in json.loads(sys.argv[1]):
    (xa, na), (xb, nb) = c["a"], c["b"]
    p = (xa + xb) / (na + nb)
    z = (xb / nb - xa / na) / math.sqrt(p * (1 - p) * (1 / na + 1 / nb))
    out.append({"z": z, "p": 2 * norm.sf(abs(z))})
print(json.dumps(out))
`;

function classifier(correct: number, n: number): PerformanceAggregate {
  const aggregate = PerformanceAggregate.empty({ aucBins: 100, positiveLabel: '1' });
  for (let i = 0; i < n; i++) aggregate.add({ kind: 'classification', predicted: i < correct ? '1' : '0' }, 1);
  return aggregate;
}

const base = { model: 'm', version: 2, championVersion: 1, predictions: 400, alpha: 0.05 };

describe('A/B verdict: two-proportion z-test on accuracy', () => {
  it('z and p equal scipy (norm.sf) on every case', () => {
    const reference = JSON.parse(execFileSync(interopPython(), ['-c', SCRIPT, JSON.stringify(CASES)], { encoding: 'utf8' })) as { z: number; p: number }[];
    CASES.forEach(({ a, b }, i) => {
      const { z, pValue } = twoProportionZTest({ successes: a[0], n: a[1] }, { successes: b[0], n: b[1] });
      expect(z).toBeCloseTo(reference[i].z, 10);
      // simple-statistics' error function is accurate to about 1.2e-7
      expect(Math.abs(pValue - reference[i].p)).toBeLessThan(1e-6);
    });
  });

  it('promotes a challenger significantly more accurate, and says with what confidence', () => {
    const verdict = abVerdict({ ...base, challenger: classifier(181, 200), champion: classifier(160, 200) });
    expect(verdict).toMatchObject({ verdict: 'promote', strategy: 'ab', metric: 'accuracy', canaryValue: 0.905, championValue: 0.8, labels: 200 });
    expect(verdict.pValue!).toBeLessThan(0.05);
    expect(verdict.confidence).toBe(Number((1 - verdict.pValue!).toFixed(4)));
    expect(verdict.reason).toMatch(/^challenger accuracy 0\.905 vs champion v1 0\.8: better on 200 and 200 labels: z = 2\.\d+, p = 0\.00\d+ .*; different with 99\.\d+% confidence$/);
  });

  it('keeps the champion when the challenger is better but not significantly, or worse', () => {
    const unsure = abVerdict({ ...base, challenger: classifier(88, 100), champion: classifier(80, 100) });
    expect(unsure).toMatchObject({ verdict: 'rollback', strategy: 'ab' });
    expect(unsure.pValue!).toBeGreaterThan(0.05);
    expect(unsure.reason).toContain('not shown better');
    const worse = abVerdict({ ...base, challenger: classifier(30, 60), champion: classifier(45, 60) });
    expect(worse).toMatchObject({ verdict: 'rollback', strategy: 'ab' });
    expect(worse.zScore!).toBeLessThan(0);
    expect(worse.reason).toContain(': worse on 60 and 60 labels');
  });

  it('all right on both sides is no evidence of a difference', () => {
    expect(twoProportionZTest({ successes: 50, n: 50 }, { successes: 50, n: 50 })).toEqual({ z: 0, pValue: 1 });
  });
});
