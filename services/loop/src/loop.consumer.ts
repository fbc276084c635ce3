import type { EventOf } from '@mlops/contracts';
import { BusConsumer, OnEvent } from '@mlops/runtime';
import { LoopEvents } from './lifecycle/loop-events';
import { LOOP_EVENT_TYPES, type LoopEventType } from './loop.names';

/**
 * Every loop event, in the service's consumer group (LOOP_GROUP). A new group starts at the
 * end of the topics (startLoop's `fromBeginning: false`).
 */
@BusConsumer()
export class LoopConsumer {
  constructor(private readonly events: LoopEvents) {}

  /** A stage of its loop; drift.detected may open one, and its retrain.requested is published with the ack. */
  @OnEvent(LOOP_EVENT_TYPES)
  handle(event: EventOf<LoopEventType>) {
    return this.events.handle(event);
  }
}
