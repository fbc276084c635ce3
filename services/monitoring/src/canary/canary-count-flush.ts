import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { MONITORING_SETTINGS, type MonitoringSettings } from '../monitoring.settings';
import { WriteLane } from '../state/write-lane';
import { MonitoringRepository } from '../store/monitoring.repository';
import { Canaries, type LiveCanary } from './canaries';

/**
 * Canary prediction counts are counted in memory and written at most every
 * MONITORING_STATE_FLUSH_MS and at shutdown; after a crash the count resumes from the last
 * write (a verdict may come up to that many predictions later, never twice).
 */
@Injectable()
export class CanaryCountFlush implements OnModuleDestroy {
  private readonly flushMs: number;

  constructor(
    private readonly canaries: Canaries,
    private readonly store: MonitoringRepository,
    private readonly lane: WriteLane,
    @Inject(MONITORING_SETTINGS) settings: MonitoringSettings,
  ) {
    this.flushMs = settings.canary.flushMs;
  }

  /** Writes a watching canary's count when the last write is at least flushMs old. */
  due(live: LiveCanary, now: number): Promise<void> | undefined {
    if (now - live.lastFlush < this.flushMs) return undefined;
    live.lastFlush = now;
    const { model, version, predictions } = live.row;
    return this.lane.run(() => this.store.saveCanaryPredictions(model, version, predictions));
  }

  /** At shutdown (the bus consumers stopped first): writes the counts not yet written. */
  async onModuleDestroy(): Promise<void> {
    await this.lane.run(async () => {
      for (const live of this.canaries.lives()) {
        if (live.row.status === 'watching') await this.store.saveCanaryPredictions(live.row.model, live.row.version, live.row.predictions);
      }
    });
  }
}
