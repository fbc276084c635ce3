import type { EventEnvelope } from '@mlops/contracts';
import { LRUCache } from 'lru-cache';

type Label = EventEnvelope<'label.observed'>;

/**
 * Labels that arrived before their prediction. Predictions and labels come on different
 * topics, consumed independently, so a label can overtake its prediction; it waits here
 * (bounded by count and age, oldest first) for the prediction to join it. Labels that
 * never meet theirs are counted as unmatched when they leave. Ordered by lru-cache for the
 * reason PendingPredictions gives; lookups `peek`, so the order stays arrival order.
 */
export class EarlyLabels {
  private readonly entries: LRUCache<string, { label: Label; at: number }>;
  expired = 0;

  constructor(private readonly options: { max: number; ttlMs: number; now: () => number; onExpired?: () => void }) {
    this.entries = new LRUCache({
      max: options.max,
      dispose: (_value, _key, reason) => {
        if (reason === 'evict') this.expire();
      },
    });
  }

  get size(): number {
    return this.entries.size;
  }

  /** Keeps the label to wait for its prediction; false when labels are not kept waiting (ttl 0). */
  hold(label: Label): boolean {
    if (this.options.ttlMs <= 0) return false;
    const now = this.options.now();
    // set moves an id already waiting to the newest end
    this.entries.set(label.data.predictionId, { label, at: now });
    const oldestAllowed = now - this.options.ttlMs;
    for (const id of this.entries.rkeys()) {
      if (this.entries.peek(id)!.at >= oldestAllowed) break;
      this.entries.delete(id);
      this.expire();
    }
    return true;
  }

  /** The label waiting for this prediction, taken out; undefined if none (or it expired). */
  take(predictionId: string): Label | undefined {
    const entry = this.entries.peek(predictionId);
    if (!entry) return undefined;
    this.entries.delete(predictionId);
    if (this.options.now() - entry.at > this.options.ttlMs) {
      this.expire();
      return undefined;
    }
    return entry.label;
  }

  private expire(): void {
    this.expired++;
    this.options.onExpired?.();
  }
}
