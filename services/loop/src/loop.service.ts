import { Injectable } from '@nestjs/common';
import type { AnyEvent, EventOf } from '@mlops/contracts';
import { LoopEvents } from './lifecycle/loop-events';
import type { LoopEventType } from './loop.names';
import { LoopQueries, type LoopDetail, type LoopSummary } from './queries/loop-queries';
import type { LoopFilter } from './store/loop.repository';
import { LoopTimeouts } from './timeouts/loop-timeouts';

export { GATE_REJECTED, LOOP_EVENT_TYPES, type LoopEventType } from './loop.names';
export type { LoopDetail, LoopStage, LoopSummary } from './queries/loop-queries';
export type { LoopFilter } from './store/loop.repository';

/**
 * The loop controller as startLoop's callers see it (`LoopApp.service`): its events
 * (LoopEvents), its sweep (LoopTimeouts) and its queries (LoopQueries) in one place.
 */
@Injectable()
export class LoopService {
  constructor(
    private readonly events: LoopEvents,
    private readonly timeouts: LoopTimeouts,
    private readonly queries: LoopQueries,
  ) {}

  get stats(): LoopEvents['stats'] {
    return this.events.stats;
  }

  /** Applies one event; returns the events to publish with its acknowledgement. */
  handle(event: EventOf<LoopEventType>): Promise<AnyEvent[]> {
    return this.events.handle(event);
  }

  /** Ends the loops that wait in vain; returns how many it ended. */
  sweep(): Promise<number> {
    return this.timeouts.sweep();
  }

  /** Open loops per model. */
  openByModel(): Promise<Record<string, number>> {
    return this.queries.openByModel();
  }

  list(filter: LoopFilter = {}): Promise<LoopSummary[]> {
    return this.queries.list(filter);
  }

  get(correlationId: string): Promise<LoopDetail> {
    return this.queries.get(correlationId);
  }
}
