import type { Cron } from 'croner';

/** What a tick does about a model's schedule. */
export type SlotDecision =
  | { kind: 'none' }
  /** The latest slot is due and recent enough: claim it and open a loop. */
  | { kind: 'fire'; slot: number }
  /** The latest slot is older than the catch-up window (missed while no controller ran): claim it as skipped. */
  | { kind: 'skip'; slot: number; lateMs: number };

/**
 * The latest slot of `cron` at or before `now` and after `since` (when the schedule was set),
 * and whether it still fires: a slot more than `catchUpMs` old is skipped. Slots older than
 * the latest are never fired: one missed run is caught up, not several.
 */
export function dueSlot(cron: Cron, since: number, now: number, catchUpMs: number): SlotDecision {
  // previousRuns starts strictly before the reference; a slot exactly at `now` is due too.
  const [latest] = cron.previousRuns(1, new Date(now + 1));
  if (!latest) return { kind: 'none' };
  const slot = latest.getTime();
  if (slot <= since || slot > now) return { kind: 'none' };
  const lateMs = now - slot;
  return lateMs <= catchUpMs ? { kind: 'fire', slot } : { kind: 'skip', slot, lateMs };
}
