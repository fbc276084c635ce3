import type { EventOf } from '@mlops/contracts';
import { BusConsumer, OnEventBatch } from '@mlops/runtime';
import { LabelJoin } from '../performance/label-join';

/** label.observed in `<group>.labels`, up to MONITORING_LABEL_BATCH_MAX at a time. */
@BusConsumer()
export class LabelConsumer {
  constructor(private readonly labels: LabelJoin) {}

  // A batch of labels is one transaction (a transaction per label kept up with about 120/s).
  @OnEventBatch('label.observed', { group: 'labels' })
  onLabels(events: EventOf<'label.observed'>[]) {
    return this.labels.onLabels(events);
  }
}
