import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '../monitoring.tokens';
import type { AggregateState, PerformanceAggregate } from '../performance/performance-aggregate';
import { VersionPerformance } from '../performance/version-performance';
import type { CanaryRow } from '../store/entities';

/** A canary (or shadow) not yet ended (watching or evaluated), with the labels of both sides since it started. */
export interface LiveCanary {
  row: CanaryRow;
  canary: PerformanceAggregate;
  champion: PerformanceAggregate;
  evaluating: boolean;
  lastFlush: number;
  /** When the canary reached its predictions (in memory: a restart waits for labels afresh). */
  readyAt?: number;
  /** A shadow's agreement with the champion on the same requests (only for a shadow). */
  shadow?: ShadowAgreement;
  /** An A/B test: the labels each side needs before it is decided (only for an A/B deployment). */
  ab?: { labels: number };
}

/** Requests both the shadow and the champion answered, and those where they gave the same prediction. */
export interface ShadowAgreement {
  compared: number;
  agreed: number;
}

const keyOf = (model: string, version: number) => `${model}\u0000${version}`;

/** Every canary of every model (the one owner of them in memory), and the live one of each model. */
@Injectable()
export class Canaries {
  private readonly rows = new Map<string, CanaryRow>();
  /** The canary of each model that is not yet ended (watching or evaluated). */
  private readonly live = new Map<string, LiveCanary>();

  constructor(
    private readonly performance: VersionPerformance,
    @Inject(CLOCK) private readonly now: Clock,
  ) {}

  restore(rows: CanaryRow[]): void {
    for (const row of rows) {
      this.rows.set(keyOf(row.model, row.version), row);
      if (row.status !== 'ended') this.live.set(row.model, this.liveCanary(row));
    }
  }

  private liveCanary(row: CanaryRow): LiveCanary {
    const comparison = JSON.parse(row.comparison) as { canary?: AggregateState; champion?: AggregateState; shadow?: ShadowAgreement; ab?: { labels: number } };
    return {
      row,
      canary: this.performance.aggregate(comparison.canary),
      champion: this.performance.aggregate(comparison.champion),
      evaluating: false,
      lastFlush: this.now(),
      ...(comparison.shadow ? { shadow: { ...comparison.shadow } } : {}),
      ...(comparison.ab ? { ab: { ...comparison.ab } } : {}),
    };
  }

  row(model: string, version: number): CanaryRow | undefined {
    return this.rows.get(keyOf(model, version));
  }

  /** Every canary row (keys `model\0version`). */
  all(): ReadonlyMap<string, CanaryRow> {
    return this.rows;
  }

  liveOf(model: string): LiveCanary | undefined {
    return this.live.get(model);
  }

  lives(): IterableIterator<LiveCanary> {
    return this.live.values();
  }

  /** A canary starts watching (stored already). */
  start(row: CanaryRow): void {
    this.rows.set(keyOf(row.model, row.version), row);
    this.live.set(row.model, this.liveCanary(row));
  }

  /** A live canary got its verdict (stored already). */
  evaluated(live: LiveCanary, row: CanaryRow): void {
    live.row = row;
    this.rows.set(keyOf(row.model, row.version), row);
  }

  /** A live canary ends (stored already): superseded, promoted or rolled back. */
  end(live: LiveCanary, reason: string): void {
    live.row = { ...live.row, status: 'ended', endedReason: reason };
    this.rows.set(keyOf(live.row.model, live.row.version), live.row);
    if (this.live.get(live.row.model) === live) this.live.delete(live.row.model);
  }
}
