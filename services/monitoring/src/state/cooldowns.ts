import { Inject, Injectable } from '@nestjs/common';
import { MONITORING_SETTINGS, type MonitoringSettings } from '../monitoring.settings';
import type { CooldownRow } from '../store/entities';

/**
 * When each alarm last went out, so one episode publishes one event: drift.detected per
 * model (`drift:<model>`), performance.degraded per version (`performance:<model>:<version>`).
 * The stored rows are restored at start; MONITORING_COOLDOWN_S applies to both.
 */
@Injectable()
export class Cooldowns {
  private readonly lastAt = new Map<string, number>();
  private readonly periodMs: number;

  constructor(@Inject(MONITORING_SETTINGS) settings: MonitoringSettings) {
    this.periodMs = settings.cooldownSeconds * 1000;
  }

  static drift(model: string): string {
    return `drift:${model}`;
  }

  static performance(model: string, version: number): string {
    return `performance:${model}:${version}`;
  }

  restore(rows: CooldownRow[]): void {
    for (const row of rows) this.lastAt.set(row.key, row.lastAt);
  }

  /** True while `key` is in its cooldown at `now`; `pending` (not yet committed) is seen before the stored ones. */
  cooling(key: string, now: number, pending?: ReadonlyMap<string, number>): boolean {
    const last = pending?.get(key) ?? this.lastAt.get(key);
    return last !== undefined && now - last < this.periodMs;
  }

  record(key: string, at: number): void {
    this.lastAt.set(key, at);
  }
}
