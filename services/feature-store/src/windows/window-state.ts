import type { FeatureValues } from '../views/feature-row';
import type { FeatureView } from '../views/feature-view';

type Aggregation = FeatureView['aggregations'][number];

interface Entry {
  eventTimeMs: number;
  inputs: Record<string, number | null>;
}

/** Running count and sum of one aggregation, with the index of its oldest entry in the window. */
interface Running {
  aggregation: Aggregation;
  head: number;
  count: number;
  sum: number;
  /** Neumaier compensation: the low-order bits lost by `sum` over many adds and subtracts. */
  compensation: number;
}

/** Drops the entries the deque no longer needs once this many sit before every head. */
const COMPACT_AFTER = 1_024;

function contribution(aggregation: Aggregation, entry: Entry): number | undefined {
  if (!aggregation.field) return 0;
  const v = entry.inputs[aggregation.field];
  return v === null || v === undefined ? undefined : v;
}

function addCompensated(running: Running, value: number): void {
  const total = running.sum + value;
  running.compensation +=
    Math.abs(running.sum) >= Math.abs(value) ? running.sum - total + value : value - total + running.sum;
  running.sum = total;
}

/**
 * The windowed aggregations of one entity in one view, kept incrementally: a deque of the
 * entity's events inside the longest window, plus per aggregation a running count and sum
 * and the index of its oldest event still inside its own window. Pushing an event and
 * reading the values as of a later time move each head forward only, so every event is
 * added once and expired once per aggregation: O(1) amortised per event. Values are exact
 * (the window is (t - window, t], as the naive recompute in `aggregate`), up to float
 * rounding of the running sums, which the compensation keeps below 1e-9 relative.
 *
 * Events must arrive in event-time order (equal times allowed); the caller routes an older
 * event to the recompute path instead.
 */
export class WindowState {
  private entries: Entry[] = [];
  private readonly running: Running[];
  /** Event time of the newest event pushed; -Infinity when none. */
  latestMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly view: FeatureView) {
    this.running = view.aggregations.map((aggregation) => ({ aggregation, head: 0, count: 0, sum: 0, compensation: 0 }));
  }

  /** How many events the deque holds (for tests and sizing). */
  get size(): number {
    return this.entries.length - Math.min(...this.running.map((r) => r.head), this.entries.length);
  }

  /** Adds one event; its time must not be older than the newest pushed. */
  push(eventTimeMs: number, inputs: Record<string, number | null>): void {
    if (eventTimeMs < this.latestMs) {
      throw new RangeError(`event at ${eventTimeMs} is older than the window state's latest event at ${this.latestMs}`);
    }
    if (this.running.length === 0) {
      this.latestMs = eventTimeMs;
      return;
    }
    const entry = { eventTimeMs, inputs };
    this.entries.push(entry);
    this.latestMs = eventTimeMs;
    for (const r of this.running) {
      const v = contribution(r.aggregation, entry);
      if (v === undefined) continue;
      r.count++;
      addCompensated(r, v);
    }
  }

  /**
   * The aggregations as of `atMs` (not older than the newest event): each over the pushed
   * events with time in (atMs - window, atMs]. Expires what fell out of each window.
   */
  valuesAt(atMs: number): FeatureValues {
    if (atMs < this.latestMs) throw new RangeError(`cannot read the window state at ${atMs}, before its latest event at ${this.latestMs}`);
    const values: FeatureValues = {};
    for (const r of this.running) {
      const from = atMs - r.aggregation.windowMs;
      while (r.head < this.entries.length && this.entries[r.head].eventTimeMs <= from) {
        const v = contribution(r.aggregation, this.entries[r.head]);
        r.head++;
        if (v === undefined) continue;
        r.count--;
        addCompensated(r, -v);
      }
      // An empty window sums to exactly 0, whatever rounding the running sum carried.
      if (r.count === 0) r.sum = r.compensation = 0;
      const sum = r.sum + r.compensation;
      const { function: fn, name } = r.aggregation;
      values[name] = fn === 'count' ? r.count : fn === 'sum' ? sum : r.count === 0 ? null : sum / r.count;
    }
    this.compact();
    return values;
  }

  private compact(): void {
    const drop = Math.min(...this.running.map((r) => r.head));
    if (drop < COMPACT_AFTER || drop * 2 < this.entries.length) return;
    this.entries = this.entries.slice(drop);
    for (const r of this.running) r.head -= drop;
  }
}

/**
 * The aggregations at each of `times` (ascending) over `events` (ascending by time), in one
 * sweep: every event with time <= t is pushed before reading at t, so rows sharing an event
 * time all see every event of that time.
 */
export function aggregationsAt(view: FeatureView, events: Entry[], times: number[]): FeatureValues[] {
  const state = new WindowState(view);
  let next = 0;
  return times.map((t) => {
    while (next < events.length && events[next].eventTimeMs <= t) {
      state.push(events[next].eventTimeMs, events[next].inputs);
      next++;
    }
    return state.valuesAt(t);
  });
}
