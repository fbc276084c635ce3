import { aggregate } from '../views/feature-row';
import { parseFeatureViews } from '../views/feature-view';
import { aggregationsAt, WindowState } from './window-state';
import { rng } from '../../../../test/support/random';

const [view] = parseFeatureViews(`
featureViews:
  - name: v
    source: s
    entityKey: user
    timestampField: ts
    aggregations:
      - { name: n_30s, function: count, window: 30s }
      - { name: n_amount_15m, function: count, field: amount, window: 15m }
      - { name: sum_1h, function: sum, field: amount, window: 1h }
      - { name: mean_1h, function: mean, field: amount, window: 1h }
      - { name: sum_24h, function: sum, field: amount, window: 24h }
      - { name: mean_7d, function: mean, field: price, window: 7d }
`);

/** An ascending stream: gaps from 0 ms (equal times) to 2 days, values of mixed magnitude, some null. */
function stream(seed: number, n: number) {
  const next = rng(seed);
  let t = Date.parse('2026-01-01T00:00:00Z');
  const gaps = [0, 1, 999, 30_000, 60_000, 3_600_000, 86_400_000, 2 * 86_400_000];
  return Array.from({ length: n }, () => {
    t += next() < 0.9 ? Math.floor(next() * 120_000) : gaps[Math.floor(next() * gaps.length)];
    const amount = next() < 0.1 ? null : (next() - 0.3) * 10 ** Math.floor(next() * 7);
    const price = next() < 0.3 ? null : next() * 100;
    return { eventTimeMs: t, inputs: { amount, price } };
  });
}

function expectClose(actual: Record<string, unknown>, expected: Record<string, unknown>, where: string) {
  for (const [name, want] of Object.entries(expected)) {
    const got = actual[name];
    if (typeof want === 'number' && typeof got === 'number') {
      if (Math.abs(got - want) > 1e-9 * Math.max(1, Math.abs(want))) throw new Error(`${where}: ${name} = ${got}, naive recompute ${want}`);
    } else {
      expect(got, `${where}: ${name}`).toBe(want);
    }
  }
}

describe('window state (incremental count/sum/mean)', () => {
  it.each([1, 2, 3])('equals the naive recompute at every event of a random stream (seed %i)', (seed) => {
    const events = stream(seed, 3_000);
    const state = new WindowState(view);
    events.forEach((e, i) => {
      state.push(e.eventTimeMs, e.inputs);
      // Events sharing this time that come later are not pushed yet: compare with the same prefix.
      expectClose(state.valuesAt(e.eventTimeMs), aggregate(view, events.slice(0, i + 1), e.eventTimeMs), `event ${i} (seed ${seed})`);
    });
  });

  it('reads values at a later time, expiring what left each window, and keeps only the longest window', () => {
    const t = Date.parse('2026-01-01T00:00:00Z');
    const state = new WindowState(view);
    state.push(t, { amount: 2, price: 10 });
    state.push(t + 10_000, { amount: 4, price: null });
    expect(state.valuesAt(t + 10_000)).toEqual({ n_30s: 2, n_amount_15m: 2, sum_1h: 6, mean_1h: 3, sum_24h: 6, mean_7d: 10 });
    // 30 s after the first event it has left the 30s window, which is (t', t' + 30s]
    expect(state.valuesAt(t + 30_000)).toMatchObject({ n_30s: 1, sum_1h: 6 });
    expect(state.valuesAt(t + 3_600_000 + 10_000)).toMatchObject({ n_30s: 0, n_amount_15m: 0, sum_1h: 0, mean_1h: null, sum_24h: 6 });
    expect(state.valuesAt(t + 8 * 86_400_000)).toEqual({ n_30s: 0, n_amount_15m: 0, sum_1h: 0, mean_1h: null, sum_24h: 0, mean_7d: null });
    expect(state.size).toBe(0);
  });

  it('refuses an event older than its latest, and a read before it', () => {
    const state = new WindowState(view);
    state.push(1_000, { amount: 1, price: 1 });
    state.push(1_000, { amount: 1, price: 1 });
    expect(() => state.push(999, { amount: 1, price: 1 })).toThrow(RangeError);
    expect(() => state.valuesAt(999)).toThrow(RangeError);
  });

  it('keeps memory bounded by the events inside the longest window on a long stream', () => {
    const state = new WindowState(view);
    const t = Date.parse('2026-01-01T00:00:00Z');
    // One event per hour for 60 days: the 7d window holds 168 of them.
    for (let h = 0; h < 24 * 60; h++) {
      state.push(t + h * 3_600_000, { amount: 1, price: 1 });
      state.valuesAt(t + h * 3_600_000);
    }
    expect(state.size).toBe(168);
  });

  it('sweeps many read times at once with every event of a shared time included', () => {
    const events = stream(7, 500).map((e, i, all) => (i % 5 === 1 ? { ...e, eventTimeMs: all[i - 1].eventTimeMs } : e));
    events.sort((a, b) => a.eventTimeMs - b.eventTimeMs);
    const times = events.map((e) => e.eventTimeMs);
    aggregationsAt(view, events, times).forEach((values, i) => expectClose(values, aggregate(view, events, times[i]), `row ${i}`));
  });
});
