import { Inject, Injectable } from '@nestjs/common';
import { v5 as uuidv5 } from 'uuid';
import { PermanentError } from '@mlops/bus';
import { causedBy, createEvent, type EventEnvelope } from '@mlops/contracts';
import { ValidatedEventApplier } from './apply/validated-event-applier';
import { InvalidRequestError, UnknownViewError } from './feature-store.errors';
import { SERVICE } from './feature-store.names';
import { FEATURE_STORE_LOG, type FeatureStoreLog } from './feature-store.settings';
import { FeatureStoreStats } from './feature-store.stats';
import { Materializer, type DatasetManifest, type MaterializedDataset } from './materialize/materializer';
import { FeatureStoreMetrics } from './metrics';
import { OfflineStore, type EntityRow, type FeatureRow } from './offline/offline-store';
import { OnlineStore, type OnlineRow } from './online/online-store';
import type { Scalar } from './views/feature-row';
import type { FeatureView } from './views/feature-view';
import { FeatureViewCatalog, type VersionedView } from './views/feature-view-catalog';

const EVENT_ID_NAMESPACE = '0b7a3f52-5f0e-4d1c-8f64-9a2a1d6c4e21';
export const MAX_ENTITY_KEYS = 1_000;

export interface OnlineResult {
  entityKey: string;
  row?: OnlineRow;
}

/**
 * The feature store's reads and snapshots: the views, online features, point-in-time
 * history, and materialized datasets (on request and on retrain.requested). Applying
 * data.validated is ValidatedEventApplier's.
 */
@Injectable()
export class FeatureStoreService {
  constructor(
    private readonly catalog: FeatureViewCatalog,
    readonly stats: FeatureStoreStats,
    readonly offline: OfflineStore,
    readonly online: OnlineStore,
    private readonly materializer: Materializer,
    private readonly applier: ValidatedEventApplier,
    readonly metrics: FeatureStoreMetrics,
    @Inject(FEATURE_STORE_LOG) private readonly log: FeatureStoreLog,
  ) {}

  listViews(): FeatureView[] {
    return this.catalog.list();
  }

  view(name: string): FeatureView {
    return this.catalog.get(name);
  }

  versionedViews(): VersionedView[] {
    return this.catalog.versioned();
  }

  versionedView(name: string): VersionedView {
    return this.catalog.getVersioned(name);
  }

  /**
   * Adds or changes a view at run time (like `feast apply`): a new or changed view is
   * backfilled from the kept records of its source; a changed view's old rows are replaced.
   */
  async defineView(view: FeatureView): Promise<{ name: string; version: number; changed: boolean; backfilled: number }> {
    const existed = this.catalog.has(view.name);
    let deleted = 0;
    const { version, changed } = await this.catalog.define(view, async () => {
      if (existed) deleted = await this.offline.clearView(view.name);
    });
    if (!changed) {
      this.log.log(`feature view ${view.name} unchanged (version ${version})`);
      return { name: view.name, version, changed, backfilled: 0 };
    }
    this.stats.rejected[view.name] ??= 0;
    const backfill = await this.applier.backfill(view);
    this.log.log(
      `feature view ${view.name} is now version ${version} (source ${view.source}): backfilled ${backfill.rows} rows from kept records` +
        `${existed ? `, replacing ${deleted} rows of the previous version` : ''}` +
        `${backfill.rejected ? `, ${backfill.rejected} records the view cannot use` : ''}${backfill.failed ? `, ${backfill.failed} failed` : ''}`,
    );
    return { name: view.name, version, changed, backfilled: backfill.rows };
  }

  /**
   * Latest values of many entities; entities without values have no row. The online read
   * path (one call per model request): no per-call schema parsing or name lists, only the
   * checks a request can fail, each naming its field.
   */
  async onlineFeatures(viewName: string, entityKeys: string[], features: string[] = []): Promise<{ view: FeatureView; names: readonly string[]; results: OnlineResult[] }> {
    const view = this.view(viewName);
    const shape = this.catalog.readShape(view);
    if (entityKeys.length === 0) throw new InvalidRequestError('entity_keys', 'at least one entity key is required');
    if (entityKeys.length > MAX_ENTITY_KEYS) throw new InvalidRequestError('entity_keys', `at most ${MAX_ENTITY_KEYS} entity keys per call`);
    for (let i = 0; i < entityKeys.length; i++) {
      const key = entityKeys[i];
      if (typeof key !== 'string' || key === '') throw new InvalidRequestError(`entity_keys[${i}]`, 'entity keys must be non-empty strings');
    }
    let names: readonly string[] = shape.names;
    if (features.length > 0) {
      const unknown = features.filter((f) => !shape.known.has(f));
      if (unknown.length) throw new InvalidRequestError('features', `not features of view ${view.name}: ${unknown.join(', ')}`);
      names = features;
    }
    const rows = await this.online.get(view.name, entityKeys);
    const results: OnlineResult[] = new Array(entityKeys.length);
    for (let i = 0; i < entityKeys.length; i++) {
      const row = rows[i];
      if (!row) {
        results[i] = { entityKey: entityKeys[i] };
        continue;
      }
      const values: Record<string, Scalar> = {};
      for (const n of names) values[n] = row.values[n] ?? null;
      results[i] = { entityKey: entityKeys[i], row: { eventTimeMs: row.eventTimeMs, values } };
    }
    return { view, names, results };
  }

  /** Point-in-time rows: per entity row, the values as of its timestamp, never later. */
  async historicalFeatures(viewName: string, entities: EntityRow[]): Promise<(FeatureRow | undefined)[]> {
    const view = this.view(viewName);
    return this.offline.asOf(view.name, entities);
  }

  async materialize(
    viewName: string,
    request: { entities?: EntityRow[]; fromMs?: number; toMs?: number },
  ): Promise<MaterializedDataset> {
    const featureView = this.view(viewName);
    const dataset = await this.materializer.materialize({ featureView, ...request });
    this.metrics.materializations.inc({ view: featureView.name, changed: String(dataset.changed) });
    const { manifest } = dataset;
    this.log.log(
      `materialized ${manifest.datasetId} (${manifest.rowCount} rows, sha256 ${manifest.hash.slice(0, 12)}${dataset.changed ? '' : ', unchanged'})`,
    );
    return dataset;
  }

  /** The dataset.materialized event of a dataset; a deterministic id when `cause` is given. */
  materializedEvent(
    dataset: MaterializedDataset,
    options: { cause?: EventEnvelope; model?: string; correlationId?: string; params?: Record<string, unknown> } = {},
  ): EventEnvelope<'dataset.materialized'> {
    const { manifest } = dataset;
    const data = {
      datasetId: manifest.datasetId,
      version: manifest.version,
      hash: manifest.hash,
      featureView: manifest.featureView,
      model: options.model,
      uri: dataset.uri,
      rowCount: manifest.rowCount,
      schema: manifest.schema,
      timeRange: manifest.timeRange,
      ...(options.params ? { params: options.params } : {}),
    };
    if (options.cause) {
      return {
        ...causedBy(options.cause, 'dataset.materialized', { source: SERVICE, subject: manifest.featureView, data }),
        id: uuidv5(`${options.cause.id}/dataset.materialized`, EVENT_ID_NAMESPACE),
      };
    }
    return createEvent('dataset.materialized', { source: SERVICE, subject: manifest.featureView, correlationId: options.correlationId, data });
  }

  /**
   * retrain.requested -> a fresh snapshot of its feature view (full history) and
   * dataset.materialized in the same loop (correlation id). Without a featureView there is
   * nothing to materialize: counted and logged. An unknown view is dead-lettered.
   */
  async onRetrainRequested(event: EventEnvelope<'retrain.requested'>): Promise<EventEnvelope<'dataset.materialized'> | undefined> {
    const viewName = event.data.featureView;
    if (!viewName) {
      this.stats.retrainWithoutView++;
      this.log.warn(`retrain.requested ${event.id} for model ${event.data.model} names no featureView; nothing to materialize`);
      return undefined;
    }
    if (!this.catalog.has(viewName)) throw new PermanentError(new UnknownViewError(viewName).message);
    const dataset = await this.materialize(viewName, {});
    // The model's training params travel on to the trainer's job.
    return this.materializedEvent(dataset, { cause: event, model: event.data.model, params: event.data.params });
  }

  /** A materialized version of a view; undefined when there is none. */
  dataset(view: string, version: number): Promise<{ uri: string; manifest: DatasetManifest } | undefined> {
    return this.materializer.find(view, version);
  }

  /** Throws when the database or the online store does not answer. */
  async ready(): Promise<{ featureViews: number; onlineStore: OnlineStore['kind'] }> {
    await this.offline.ping();
    await this.online.ping();
    return { featureViews: this.catalog.list().length, onlineStore: this.online.kind };
  }
}
