import type { EventOf } from '@mlops/contracts';
import { BusConsumer, OnEventBatch } from '@mlops/runtime';
import { NewDataCounter } from './new-data-counter';

/** The group suffix the new-data trigger reads data.validated in (`<LOOP_GROUP>.new-data`). */
export const NEW_DATA_GROUP = 'new-data';

/** data.validated for the new-data trigger, in batches, in a group of its own (it must not wait behind loop events). */
@BusConsumer()
export class NewDataConsumer {
  constructor(private readonly counter: NewDataCounter) {}

  @OnEventBatch('data.validated', { group: NEW_DATA_GROUP })
  count(events: EventOf<'data.validated'>[]) {
    return this.counter.count(events);
  }
}
