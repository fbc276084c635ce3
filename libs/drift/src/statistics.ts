// Two-sample drift statistics on plain arrays, each matching a scipy reference
// (checked in statistics.spec.ts against test/fixtures/drift/reference.py).
import { LRUCache } from 'lru-cache';
import { chi2Sf, kolmogorovSf, normalSf } from './special';

export interface TestResult {
  statistic: number;
  pValue: number;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Ascending copy (NaN-free input expected). */
export function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

/**
 * The two-sided KS statistic sup |F1 - F2| of two ascending samples, evaluated at every
 * observed value with right-continuous ECDFs (scipy's searchsorted(side='right')). O(n + m).
 */
export function ksStatistic(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && a[i] <= b[j]) ? a[i] : b[j];
    while (i < n1 && a[i] <= v) i++;
    while (j < n2 && b[j] <= v) j++;
    const diff = Math.abs(i / n1 - j / n2);
    if (diff > d) d = diff;
  }
  return d;
}

/** Pr(D_{n,n} >= h/n), scipy's _compute_prob_outside_square. */
function probOutsideSquare(n: number, h: number): number {
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    p = p1 * (1 - p);
  }
  return 2 * p;
}

/**
 * Proportion of lattice paths from (0,0) to (m,n) that leave |x/m - y/n| < h/lcm — the exact
 * two-sided p-value; scipy's _compute_outer_prob_inside_method (Hodges; Viehmann's 1-p
 * recursion). O(m · band).
 */
function outerProbInside(m0: number, n0: number, g: number, h: number): number {
  const [m, n] = m0 >= n0 ? [m0, n0] : [n0, m0];
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  for (let k = minj; k < maxj; k++) A[k] = 0;
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + minj - lastminj] * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) A.fill(1, maxj - minj, maxj - minj + (lastlen - curlen));
  }
  return A[maxj - minj - 1];
}

/** Largest sample size for which the exact p-value is computed (scipy's MAX_AUTO_N). */
export const KS_EXACT_MAX_N = 10_000;

/**
 * The exact two-sided KS p-value Pr(D_{n1,n2} >= h / lcm(n1, n2)) for h >= 1: O(n1 · n2) at
 * worst, uncached. Symmetric in n1 and n2. May return a value outside [0, 1] when the
 * recursion loses precision (the caller falls back then).
 */
export function ksExactPValue(n1: number, n2: number, h: number): number {
  return n1 === n2 ? probOutsideSquare(n1, h) : outerProbInside(n1, n2, gcd(n1, n2), h);
}

/**
 * Exact KS p-values already computed. D of samples of sizes n1, n2 only takes the values
 * h / lcm(n1, n2), so the p-value is a pure function of (n1, n2, h): windows of one size
 * against one reference keep hitting the same few hundred keys, and a hit returns the very
 * number the recursion gave. Bounded (least recently used entries go first).
 */
export const ksExactPValueCache = new LRUCache<string, number>({ max: 8192 });

/** ksExactPValue through ksExactPValueCache. */
export function cachedKsExactPValue(n1: number, n2: number, h: number): number {
  const key = n1 <= n2 ? `${n1},${n2},${h}` : `${n2},${n1},${h}`;
  let p = ksExactPValueCache.get(key);
  if (p === undefined) ksExactPValueCache.set(key, (p = ksExactPValue(n1, n2, h)));
  return p;
}

/**
 * Two-sample two-sided Kolmogorov-Smirnov test on ascending samples.
 *
 * Matches scipy.stats.ks_2samp(a, b) with method='auto' — i.e. method='exact' whenever
 * max(n1, n2) <= 10,000, which is what Evidently calls — for statistic and p-value. Above
 * that size (or if the exact recursion fails) the p-value falls back to Kolmogorov's
 * limiting distribution with Stephens' small-sample correction, an approximation that
 * does NOT reproduce scipy's method='asymp' (kstwo.sf(d, round(en))) digit for digit.
 */
export function ksTwoSample(a: ArrayLike<number>, b: ArrayLike<number>): TestResult & { exact: boolean } {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) throw new Error('ksTwoSample: samples must not be empty');
  const raw = ksStatistic(a, b);
  if (Math.max(n1, n2) <= KS_EXACT_MAX_N) {
    const g = gcd(n1, n2);
    const lcm = (n1 / g) * n2;
    const h = Math.round(raw * lcm);
    const d = h / lcm;
    if (h === 0) return { statistic: d, pValue: 1, exact: true };
    const p = cachedKsExactPValue(n1, n2, h);
    if (p >= 0 && p <= 1) return { statistic: d, pValue: p, exact: true };
  }
  const en = (n1 * n2) / (n1 + n2);
  const sq = Math.sqrt(en);
  return { statistic: raw, pValue: kolmogorovSf((sq + 0.12 + 0.11 / sq) * raw), exact: false };
}

/**
 * scipy.stats.wasserstein_distance(a, b) (1-Wasserstein between the empirical
 * distributions) on ascending samples: ∫ |F_a - F_b| dx over the merged support. O(n + m).
 */
export function wassersteinDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) throw new Error('wassersteinDistance: samples must not be empty');
  let i = 0;
  let j = 0;
  let total = 0;
  let prev = Math.min(a[0], b[0]);
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && a[i] <= b[j]) ? a[i] : b[j];
    total += Math.abs(i / n1 - j / n2) * (v - prev);
    prev = v;
    while (i < n1 && a[i] <= v) i++;
    while (j < n2 && b[j] <= v) j++;
  }
  return total;
}

/** Population standard deviation (ddof=0, numpy's np.std default — what Evidently divides by). */
export function meanStd(values: ArrayLike<number>): { mean: number; std: number } {
  let mean = 0;
  let m2 = 0;
  for (let k = 0; k < values.length; k++) {
    const delta = values[k] - mean;
    mean += delta / (k + 1);
    m2 += delta * (values[k] - mean);
  }
  return { mean, std: values.length ? Math.sqrt(m2 / values.length) : NaN };
}

/**
 * scipy.stats.chisquare(observed, expected): Pearson's statistic with k - 1 degrees of
 * freedom. A category expected 0 but observed > 0 gives statistic Infinity, p-value 0.
 */
export function chiSquare(observed: ArrayLike<number>, expected: ArrayLike<number>): TestResult & { dof: number } {
  if (observed.length !== expected.length) throw new Error('chiSquare: observed and expected differ in length');
  let statistic = 0;
  for (let k = 0; k < observed.length; k++) {
    const diff = observed[k] - expected[k];
    if (diff === 0) continue;
    statistic += expected[k] === 0 ? Infinity : (diff * diff) / expected[k];
  }
  const dof = observed.length - 1;
  return { statistic, dof, pValue: dof <= 0 ? NaN : statistic === Infinity ? 0 : chi2Sf(statistic, dof) };
}

/**
 * Evidently's chi-squared drift test: observed = current counts, expected = reference
 * counts scaled to the current size, over the union of categories.
 */
export function chiSquareFromCounts(reference: ArrayLike<number>, current: ArrayLike<number>): TestResult & { dof: number } {
  const nRef = sum(reference);
  const nCur = sum(current);
  const expected = Array.from(reference, (c) => (c * nCur) / nRef);
  return chiSquare(current, expected);
}

function sum(values: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < values.length; k++) s += values[k];
  return s;
}

function relEntr(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Infinity;
}

/**
 * scipy.spatial.distance.jensenshannon(p, q, base): both vectors are normalised to sum 1;
 * natural log unless a base is given (Evidently calls it without a base, so the default
 * here is e as well; base 2 bounds the distance by 1).
 */
export function jensenShannonDistance(p: ArrayLike<number>, q: ArrayLike<number>, base?: number): number {
  if (p.length !== q.length) throw new Error('jensenShannonDistance: vectors differ in length');
  const sp = sum(p);
  const sq = sum(q);
  let js = 0;
  for (let k = 0; k < p.length; k++) {
    const pk = p[k] / sp;
    const qk = q[k] / sq;
    const mk = (pk + qk) / 2;
    js += relEntr(pk, mk) + relEntr(qk, mk);
  }
  if (base !== undefined) js /= Math.log(base);
  return Math.sqrt(js / 2);
}

/** Share assigned to an empty bin before the PSI logarithm (Evidently's "feel zeroes" value). */
export const PSI_EPSILON = 1e-4;

/**
 * Population stability index Σ (c - r) · ln(c / r) over bin shares; empty bins (share 0 on
 * either side) count as PSI_EPSILON. Inputs are counts or shares (normalised here).
 */
export function psi(referenceCounts: ArrayLike<number>, currentCounts: ArrayLike<number>, epsilon = PSI_EPSILON): number {
  if (referenceCounts.length !== currentCounts.length) throw new Error('psi: bin vectors differ in length');
  const nr = sum(referenceCounts);
  const nc = sum(currentCounts);
  let total = 0;
  for (let k = 0; k < referenceCounts.length; k++) {
    const r = referenceCounts[k] / nr || epsilon;
    const c = currentCounts[k] / nc || epsilon;
    total += (c - r) * Math.log(c / r);
  }
  return total;
}

/**
 * numpy.quantile(values, q) with the default 'linear' interpolation, on an ascending sample.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Inner bin edges at the reference quantiles 1/bins … (bins-1)/bins, deduplicated. A value v
 * falls in bin #edges < v (numpy.searchsorted(edges, v, side='left')), so bins are
 * (-inf, e1], (e1, e2], …, (e_last, +inf).
 */
export function quantileEdges(sorted: ArrayLike<number>, bins: number): number[] {
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    const e = quantileSorted(sorted, k / bins);
    if (edges.length === 0 || e > edges[edges.length - 1]) edges.push(e);
  }
  return edges;
}

/** Index of the bin of v among inner edges (binary search; bins are few, so this is O(1)). */
export function binIndex(edges: ArrayLike<number>, v: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Evidently's two-proportion z-test for a binary column: the share of `category` in the
 * reference vs the current sample, pooled standard error, two-sided p = 2 (1 - Φ(|z|)).
 */
export function twoProportionZTest(refHits: number, refN: number, curHits: number, curN: number): TestResult {
  const p1 = refHits / refN;
  const p2 = curHits / curN;
  const pooled = (refHits + curHits) / (refN + curN);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / refN + 1 / curN));
  if (se === 0) return { statistic: 0, pValue: 1 };
  const z = (p1 - p2) / se;
  return { statistic: z, pValue: 2 * normalSf(Math.abs(z)) };
}
