import { Injectable } from '@nestjs/common';
import { FeatureViewCatalog } from './views/feature-view-catalog';

/** The counters of GET /stats (and of the embedded runner), one set per running store. */
@Injectable()
export class FeatureStoreStats {
  /** Feature rows written (one per event and view). */
  applied = 0;
  /** Redelivered events recognised and not applied again. */
  duplicates = 0;
  /** data.validated events of sources that no view uses (ignored by design). */
  ignored = 0;
  /** Records a view could not use (missing entity key or timestamp), per view. */
  rejected: Record<string, number> = {};
  /** Applied events whose own row is not the online value: the entity already had a newer one. */
  lateOnline = 0;
  /** Events not newer than their entity's latest event (inserted, later rows recomputed). */
  lateEvents = 0;
  /** History rows rewritten because a late event changed their windowed aggregations. */
  recomputedRows = 0;
  /** retrain.requested events without a featureView (nothing to materialize). */
  retrainWithoutView = 0;

  constructor(catalog: FeatureViewCatalog) {
    for (const view of catalog.list()) this.rejected[view.name] = 0;
  }
}
