import type { PredictionOutcome } from './prediction-outcome';

export interface PendingPrediction {
  model: string;
  version: number;
  outcome: PredictionOutcome;
  /** ms since the epoch, when it was logged here */
  at: number;
}

/**
 * Recent predictions waiting for their label, in memory: bounded by count and age. A Map
 * keeps insertion order, so the oldest entry is always first and eviction is O(1).
 * Evicted entries never got a label; they are counted, not kept.
 */
export class PendingPredictions {
  private readonly entries = new Map<string, PendingPrediction>();
  evictedUnlabelled = 0;

  constructor(
    private readonly options: { max: number; ttlMs: number; now: () => number },
  ) {}

  get size(): number {
    return this.entries.size;
  }

  add(predictionId: string, prediction: PendingPrediction): void {
    this.entries.delete(predictionId);
    this.entries.set(predictionId, prediction);
    this.evict(prediction.at);
  }

  /** The prediction a label is for, if it is still waiting (it stays until `remove`). */
  get(predictionId: string): PendingPrediction | undefined {
    const entry = this.entries.get(predictionId);
    if (entry && this.options.now() - entry.at > this.options.ttlMs) return undefined;
    return entry;
  }

  remove(predictionId: string): void {
    this.entries.delete(predictionId);
  }

  private evict(now: number): void {
    const oldestAllowed = now - this.options.ttlMs;
    for (const [id, entry] of this.entries) {
      if (this.entries.size <= this.options.max && entry.at >= oldestAllowed) break;
      this.entries.delete(id);
      this.evictedUnlabelled++;
    }
  }
}
