import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { LOOP_LOG, LOOP_SETTINGS, type LoopLog, type LoopSettings } from '../loop.settings';
import { PeriodicTask } from '../periodic-task';
import { LoopTimeouts } from './loop-timeouts';

/**
 * Runs the sweep every LOOP_SWEEP_INTERVAL_MS while the app runs, one sweep at a time; on
 * shutdown it stops and waits for a sweep under way (before the database closes).
 */
@Injectable()
export class LoopSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly sweeps: PeriodicTask;

  constructor(
    timeouts: LoopTimeouts,
    @Inject(LOOP_SETTINGS) private readonly settings: LoopSettings,
    @Inject(LOOP_LOG) log: LoopLog,
  ) {
    this.sweeps = new PeriodicTask('sweep', () => timeouts.sweep(), log);
  }

  onApplicationBootstrap(): void {
    this.sweeps.start(this.settings.timeouts.sweepIntervalMs);
  }

  onModuleDestroy(): Promise<void> {
    return this.sweeps.stop();
  }
}
