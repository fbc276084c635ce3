import { cachedKsExactPValue, ksExactPValue, ksExactPValueCache, ksTwoSample, sortedCopy } from './statistics';

let seed = 7;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const sample = (n: number, shift: number) => sortedCopy(Array.from({ length: n }, () => rand() + shift));
const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);

describe('exact KS p-value cache', () => {
  beforeEach(() => ksExactPValueCache.clear());

  it('returns bit-for-bit the uncached value for every step h of small unequal and equal sizes', () => {
    for (const [n1, n2] of [
      [7, 11],
      [12, 18],
      [9, 9],
    ]) {
      const lcm = (n1 * n2) / gcd(n1, n2);
      const steps = Array.from({ length: lcm }, (_, k) => k + 1);
      for (const h of [...steps, ...steps.reverse()]) {
        expect(Object.is(cachedKsExactPValue(n1, n2, h), ksExactPValue(n1, n2, h)), `n1=${n1} n2=${n2} h=${h}`).toBe(true);
        expect(Object.is(cachedKsExactPValue(n2, n1, h), ksExactPValue(n1, n2, h)), `n1=${n2} n2=${n1} h=${h}`).toBe(true);
      }
    }
  });

  it('gives ksTwoSample the same statistic and p-value on a cold and a warm cache (window 500 vs reference 1,000)', () => {
    const reference = sample(1000, 0);
    const windows = Array.from({ length: 20 }, (_, k) => sample(500, k % 4 === 0 ? 0.05 : 0));
    const cold = windows.map((w) => {
      ksExactPValueCache.clear();
      return ksTwoSample(reference, w);
    });
    const warm = windows.map((w) => ksTwoSample(reference, w));
    for (let k = 0; k < windows.length; k++) {
      expect(Object.is(warm[k].pValue, cold[k].pValue), `window ${k}`).toBe(true);
      expect(warm[k]).toEqual(cold[k]);
      const h = Math.round(cold[k].statistic * 1000);
      expect(Object.is(cold[k].pValue, ksExactPValue(1000, 500, h))).toBe(true);
    }
    expect(ksExactPValueCache.size).toBeGreaterThan(0);
  });
});
