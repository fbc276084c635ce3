import type { FeatureValues } from '../views/feature-row';

/** The latest feature values of one entity in one view. */
export interface OnlineRow {
  eventTimeMs: number;
  values: FeatureValues;
}

/**
 * The online store port: latest values per entity per view. `put` only moves an entity
 * forward in event time: a late (out-of-order) event older than the stored row is kept in
 * the offline history but does not replace the online value (equal times: the last put wins).
 * An abstract class so the adapter the config picks (online-store.provider.ts) is injected by it.
 */
export abstract class OnlineStore {
  abstract readonly kind: 'memory' | 'redis';
  /** Stores the row unless the entity already has a newer one; true when stored. */
  abstract put(view: string, entityKey: string, row: OnlineRow): Promise<boolean>;
  /** One result per key, in order; undefined for an entity with no row. */
  abstract get(view: string, entityKeys: string[]): Promise<(OnlineRow | undefined)[]>;
  abstract ping(): Promise<void>;
  abstract close(): Promise<void>;
}
