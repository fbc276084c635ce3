import { LRUCache } from 'lru-cache';
import type { PredictionOutcome } from './prediction-outcome';

export interface PendingPrediction {
  model: string;
  version: number;
  outcome: PredictionOutcome;
  /** ms since the epoch, when it was logged here */
  at: number;
}

/**
 * Recent predictions waiting for their label, in memory: bounded by count and age, oldest
 * evicted first. Evicted entries never got a label; they are counted, not kept.
 *
 * lru-cache keeps the order in a linked list, so finding the oldest entry is O(1). A plain
 * Map cannot: V8 leaves a hole for every deleted entry until it rehashes, and each new
 * iterator walks the holes from the front, which made every insert at the bound cost tens
 * of microseconds (bench/serving/monitor-throughput.mjs). Lookups use `peek`, so a lookup
 * never changes the order.
 */
export class PendingPredictions {
  private readonly entries: LRUCache<string, PendingPrediction>;
  evictedUnlabelled = 0;

  constructor(private readonly options: { max: number; ttlMs: number; now: () => number }) {
    this.entries = new LRUCache({
      max: options.max,
      dispose: (_value, _key, reason) => {
        if (reason === 'evict') this.evictedUnlabelled++;
      },
    });
  }

  get size(): number {
    return this.entries.size;
  }

  add(predictionId: string, prediction: PendingPrediction): void {
    // A second prediction under one id replaces the first, as the newest (set moves it last).
    this.entries.set(predictionId, prediction);
    this.evictOlderThan(prediction.at - this.options.ttlMs);
  }

  /** The prediction a label is for, if it is still waiting (it stays until `remove`). */
  get(predictionId: string): PendingPrediction | undefined {
    const entry = this.entries.peek(predictionId);
    if (entry && this.options.now() - entry.at > this.options.ttlMs) return undefined;
    return entry;
  }

  remove(predictionId: string): void {
    this.entries.delete(predictionId);
  }

  private evictOlderThan(oldestAllowed: number): void {
    for (const id of this.entries.rkeys()) {
      if (this.entries.peek(id)!.at >= oldestAllowed) break;
      this.entries.delete(id);
      this.evictedUnlabelled++;
    }
  }
}
