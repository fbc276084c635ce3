import { Inject, Injectable } from '@nestjs/common';
import { LoopMetrics } from '../loop.metrics';
import { LOOP_LOG, type LoopLog } from '../loop.settings';
import { LoopNotifications } from '../notifications/loop-notifications';
import type { LoopRow } from '../store/entities';
import { LoopRepository, type LoopEnding, type LoopTx } from '../store/loop.repository';

/** What to do once the transaction has committed (count, log): nothing of it for a rolled back effect. */
export type AfterCommit = (() => void)[];

/** Ends loops, with their outcome, for the events that end them and for the sweep. */
@Injectable()
export class LoopCloser {
  constructor(
    private readonly loops: LoopRepository,
    private readonly metrics: LoopMetrics,
    private readonly notifications: LoopNotifications,
    @Inject(LOOP_LOG) private readonly log: LoopLog,
  ) {}

  /** Closes an open loop (and queues its webhook notification in the same transaction); false when it was already closed. */
  async end(
    tx: LoopTx,
    loop: Pick<LoopRow, 'correlationId' | 'model' | 'startedAt'> & Partial<Pick<LoopRow, 'candidateVersion' | 'trigger'>>,
    ending: LoopEnding,
    committed: AfterCommit,
  ): Promise<boolean> {
    if (!(await this.loops.close(tx, loop.correlationId, ending))) return false;
    const notified = await this.notifications.loopEnded(tx, loop, ending);
    committed.push(() => {
      this.metrics.loopEnded(loop.model, ending.outcome, ending.at - loop.startedAt);
      this.log.log(`loop ${loop.correlationId} ended ${ending.outcome}: ${ending.reason}`);
      notified?.();
    });
    return true;
  }
}
