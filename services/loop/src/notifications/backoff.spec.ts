import { retryDelay } from './backoff';

describe('webhook retry backoff', () => {
  it('waits the base after the first failed attempt, doubling after each next one, and stops at the last attempt', () => {
    const backoff = { retryBaseMs: 5000, retryMaxMs: 3_600_000, maxAttempts: 5 };
    expect([1, 2, 3, 4, 5].map((attempt) => retryDelay(backoff, attempt))).toEqual([5000, 10_000, 20_000, 40_000, undefined]);
  });

  it('never waits longer than the ceiling, however many attempts are allowed', () => {
    const backoff = { retryBaseMs: 5000, retryMaxMs: 3_600_000, maxAttempts: 30 };
    expect(retryDelay(backoff, 10)).toBe(2_560_000);
    expect([11, 20, 29].map((attempt) => retryDelay(backoff, attempt))).toEqual([3_600_000, 3_600_000, 3_600_000]);
  });

  it('one attempt allowed: no retry at all', () => {
    expect(retryDelay({ retryBaseMs: 1000, retryMaxMs: 60_000, maxAttempts: 1 }, 1)).toBeUndefined();
  });
});
