import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { interopPython } from '../../../test/support/python';
import { binIndex, chiSquare, chiSquareFromCounts, gammainc, gammaincc, jensenShannonDistance, ksTwoSample, psi, quantileEdges, sortedCopy, twoProportionZTest, wassersteinDistance } from './index';

/* eslint-disable @typescript-eslint/no-explicit-any */
// scipy/numpy results on deterministic data (seeded in the script).
let ref: any;

beforeAll(() => {
  const script = resolve(__dirname, '../../../test/fixtures/drift/reference.py');
  ref = JSON.parse(execFileSync(interopPython(), [script], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }));
}, 600_000);

const close = (actual: number, expected: number, tol = 1e-6) => {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(tol);
};

// The cases and sample sizes reference.py draws: a short or empty array from Python would
// make the loops below compare nothing.
const CASES = { ks: 6, wasserstein: 3, chisquare: 3, jensenshannon: 3, psi: 4, ztest: 2, gamma: 49 };
const KS_SIZES = [[200, 150], [300, 300], [1000, 500], [37, 53], [400, 250], [1000, 500]];
const WASSERSTEIN_SIZES = [[2000, 500], [1500, 700], [1200, 300]];
const PSI_SIZES = [[1000, 500], [1000, 500], [1000, 500], [800, 400]];

describe('drift statistics vs scipy', () => {
  it('reports the scipy/numpy versions it compares against', () => {
    expect(ref.versions).toEqual({ scipy: '1.17.1', numpy: '1.26.4' });
  });

  it('has every reference case, with the sample sizes reference.py draws', () => {
    expect(Object.fromEntries(Object.keys(CASES).map((k) => [k, ref[k]?.length]))).toEqual(CASES);
    expect(ref.ks.map((c: any) => [c.a.length, c.b.length])).toEqual(KS_SIZES);
    expect([ref.ksLarge.a.length, ref.ksLarge.b.length]).toEqual([12000, 11000]);
    expect(ref.wasserstein.map((c: any) => [c.a.length, c.b.length])).toEqual(WASSERSTEIN_SIZES);
    expect(ref.psi.map((c: any) => [c.ref.length, c.cur.length])).toEqual(PSI_SIZES);
    expect(ref.chisquare.map((c: any) => [c.ref.reduce((s: number, n: number) => s + n, 0), c.cur.reduce((s: number, n: number) => s + n, 0)])).toEqual([[800, 500], [800, 500], [300, 120]]);
    expect(ref.jensenshannon.map((c: any) => [c.p.length, c.q.length])).toEqual([[4, 4], [3, 3], [12, 12]]);
    expect(ref.ztest.map((c: any) => [c.refN, c.curN])).toEqual([[700, 300], [700, 300]]);
  });

  it('KS two-sample: statistic and exact p-value equal scipy ks_2samp (method auto = exact)', () => {
    for (const c of ref.ks) {
      const r = ksTwoSample(sortedCopy(c.a), sortedCopy(c.b));
      expect(r.exact, c.name).toBe(true);
      close(r.statistic, c.statistic);
      close(r.pValue, c.pvalue);
      // relative agreement as well (the tiny p-values matter for ranking)
      expect(Math.abs(r.pValue - c.pvalue) / Math.max(c.pvalue, 1e-300), c.name).toBeLessThan(1e-6);
    }
  });

  it('KS above 10,000 rows: exact statistic, approximate (Kolmogorov limit) p-value', () => {
    const c = ref.ksLarge;
    const r = ksTwoSample(sortedCopy(c.a), sortedCopy(c.b));
    expect(r.exact).toBe(false);
    close(r.statistic, c.statistic, 1e-12);
    close(r.pValue, c.pvalue, 5e-3);
  });

  it('Wasserstein distance and its normalisation by the reference std equal scipy', () => {
    for (const c of ref.wasserstein) {
      const d = wassersteinDistance(sortedCopy(c.a), sortedCopy(c.b));
      close(d, c.distance);
      const mean = c.a.reduce((s: number, v: number) => s + v, 0) / c.a.length;
      const std = Math.sqrt(c.a.reduce((s: number, v: number) => s + (v - mean) ** 2, 0) / c.a.length);
      close(d / std, c.normalised);
    }
  });

  it('chi-squared (Evidently counts) statistic and p-value equal scipy chisquare', () => {
    for (const c of ref.chisquare) {
      const r = chiSquareFromCounts(c.ref, c.cur);
      close(r.statistic, c.statistic);
      close(r.pValue, c.pvalue);
    }
  });

  it('Jensen-Shannon distance equals scipy jensenshannon (natural log and base 2)', () => {
    for (const c of ref.jensenshannon) {
      close(jensenShannonDistance(c.p, c.q), c.e);
      close(jensenShannonDistance(c.p, c.q, 2), c.base2);
    }
  });

  it('PSI over reference-quantile bins equals the numpy re-implementation (epsilon 1e-4)', () => {
    for (const c of ref.psi) {
      const sorted = sortedCopy(c.ref);
      const edges = quantileEdges(sorted, 10);
      expect(edges.length).toBe(c.edges.length);
      edges.forEach((e, k) => close(e, c.edges[k], 1e-12));
      const count = (values: number[]) => {
        const bins = new Array(edges.length + 1).fill(0);
        for (const v of values) bins[binIndex(edges, v)]++;
        return bins;
      };
      close(psi(count(c.ref), count(c.cur)), c.value);
    }
  });

  it('two-proportion z-test equals Evidently formula with scipy norm.cdf', () => {
    for (const c of ref.ztest) {
      const r = twoProportionZTest(c.refHits, c.refN, c.curHits, c.curN);
      close(r.statistic, c.z);
      close(r.pValue, c.pvalue);
    }
  });

  it('regularized incomplete gamma equals scipy.special gammainc/gammaincc', () => {
    for (const c of ref.gamma) {
      close(gammaincc(c.a, c.x), c.q, 1e-12);
      close(gammainc(c.a, c.x), c.p, 1e-12);
    }
  });
});

describe('drift statistics edge cases', () => {
  it('chi-squared: a category never seen in the reference gives p = 0', () => {
    expect(chiSquare([5, 3], [8, 0])).toMatchObject({ statistic: Infinity, pValue: 0 });
  });

  it('KS: identical samples give D = 0, p = 1', () => {
    expect(ksTwoSample([1, 2, 3], [1, 2, 3])).toMatchObject({ statistic: 0, pValue: 1 });
  });

  it('z-test: a constant column on both sides is no drift', () => {
    expect(twoProportionZTest(10, 10, 5, 5).pValue).toBe(1);
  });
});
