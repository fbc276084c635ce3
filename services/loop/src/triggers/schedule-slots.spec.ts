import { cronOf } from './trigger-config';
import { dueSlot } from './schedule-slots';

const weekly = cronOf('0 3 * * 1')!;
// Monday 2026-01-05 03:00 UTC
const MONDAY_3AM = Date.UTC(2026, 0, 5, 3, 0, 0);
const HOUR = 3_600_000;

describe('dueSlot', () => {
  it('fires the slot that is due, at its time and within the catch-up window', () => {
    expect(dueSlot(weekly, 0, MONDAY_3AM, HOUR)).toEqual({ kind: 'fire', slot: MONDAY_3AM });
    expect(dueSlot(weekly, 0, MONDAY_3AM + 5_000, HOUR)).toEqual({ kind: 'fire', slot: MONDAY_3AM });
  });

  it('gives the same slot on every tick until the next one, so a claim per (model, slot) fires it once', () => {
    const ticks = [1, 10_000, 20 * 60_000, HOUR].map((ms) => dueSlot(weekly, 0, MONDAY_3AM + ms, HOUR));
    expect(new Set(ticks.map((d) => (d.kind === 'none' ? 'none' : d.slot)))).toEqual(new Set([MONDAY_3AM]));
  });

  it('skips a slot missed for longer than the catch-up window (and says how late it is)', () => {
    expect(dueSlot(weekly, 0, MONDAY_3AM + 2 * HOUR, HOUR)).toEqual({ kind: 'skip', slot: MONDAY_3AM, lateMs: 2 * HOUR });
  });

  it('fires only the latest of several missed slots', () => {
    const twoWeeksLater = MONDAY_3AM + 14 * 24 * HOUR + 60_000;
    expect(dueSlot(weekly, 0, twoWeeksLater, HOUR)).toEqual({ kind: 'fire', slot: MONDAY_3AM + 14 * 24 * HOUR });
  });

  it('has nothing due for a slot before the schedule was set, or before the first slot', () => {
    expect(dueSlot(weekly, MONDAY_3AM + 1, MONDAY_3AM + 60_000, HOUR)).toEqual({ kind: 'none' });
    expect(dueSlot(weekly, MONDAY_3AM, MONDAY_3AM + 60_000, HOUR)).toEqual({ kind: 'none' });
  });

  it('takes 6-field expressions (seconds first)', () => {
    const everyTenSeconds = cronOf('*/10 * * * * *')!;
    expect(dueSlot(everyTenSeconds, 0, MONDAY_3AM + 13_000, 60_000)).toEqual({ kind: 'fire', slot: MONDAY_3AM + 10_000 });
  });
});

describe('cronOf', () => {
  it('rejects what is not a cron expression', () => {
    expect(cronOf('every monday')).toBeUndefined();
    expect(cronOf('0 3 * * 8')).toBeUndefined();
    expect(cronOf('0 3 * * 1')).toBeDefined();
  });
});
