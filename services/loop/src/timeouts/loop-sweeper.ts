import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { LOOP_LOG, LOOP_SETTINGS, type LoopLog, type LoopSettings } from '../loop.settings';
import { LoopTimeouts } from './loop-timeouts';

/**
 * Runs the sweep every LOOP_SWEEP_INTERVAL_MS while the app runs, one sweep at a time; on
 * shutdown it stops and waits for a sweep under way (before the database closes).
 */
@Injectable()
export class LoopSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<unknown>;

  constructor(
    private readonly timeouts: LoopTimeouts,
    @Inject(LOOP_SETTINGS) private readonly settings: LoopSettings,
    @Inject(LOOP_LOG) private readonly log: LoopLog,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.sweeping ??= this.timeouts
        .sweep()
        .catch((error: Error) => this.log.error(`sweep failed: ${error.message}`))
        .finally(() => (this.sweeping = undefined));
    }, this.settings.timeouts.sweepIntervalMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }
}
