import type { EventOf } from '@mlops/contracts';
import { BusConsumer, OnEvent } from '@mlops/runtime';
import { ValidatedEventApplier } from './apply/validated-event-applier';
import { FeatureStoreService } from './feature-store.service';

/**
 * The feature store's events (FEATURE_STORE_ROLE=all only): data.validated in the service's
 * group, retrain.requested in `<group>.retrain`, so a materialization does not hold up the
 * feature rows. Both groups start from the beginning when they have no position.
 */
@BusConsumer()
export class FeatureStoreConsumer {
  constructor(
    private readonly applier: ValidatedEventApplier,
    private readonly store: FeatureStoreService,
  ) {}

  /** Feature rows into the offline and online stores of every view of the record's source. */
  @OnEvent('data.validated')
  applyValidated(event: EventOf<'data.validated'>) {
    return this.applier.apply(event);
  }

  /** Materializes the view's full history; returns dataset.materialized (nothing without a featureView). */
  @OnEvent('retrain.requested', { group: 'retrain' })
  onRetrainRequested(event: EventOf<'retrain.requested'>) {
    return this.store.onRetrainRequested(event);
  }
}
