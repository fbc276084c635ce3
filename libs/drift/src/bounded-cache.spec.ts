import { BoundedCache } from './bounded-cache';

describe('BoundedCache', () => {
  it('computes a missing key once and returns the stored value afterwards', () => {
    const cache = new BoundedCache<string, number>(4);
    const calls: string[] = [];
    const square = (key: string) => (calls.push(key), Number(key) ** 2);
    expect(cache.getOrCompute('3', square)).toBe(9);
    expect(cache.getOrCompute('3', square)).toBe(9);
    expect(calls).toEqual(['3']);
  });

  it('drops the least recently used entry when full', () => {
    const cache = new BoundedCache<number, number>(2);
    const id = (k: number) => k;
    cache.getOrCompute(1, id);
    cache.getOrCompute(2, id);
    cache.getOrCompute(1, id); // 1 is now the most recently used
    cache.getOrCompute(3, id);
    expect(cache.size).toBe(2);
    expect(cache.has(1)).toBe(true);
    expect(cache.has(2)).toBe(false);
    expect(cache.has(3)).toBe(true);
  });

  it('rejects a capacity that is not a positive integer', () => {
    expect(() => new BoundedCache(0)).toThrow(/capacity must be a positive integer, got 0/);
    expect(() => new BoundedCache(1.5)).toThrow(/capacity/);
  });
});
