import { v5 as uuidv5 } from 'uuid';
import type { DataSource } from 'typeorm';
import { PermanentError } from '@mlops/bus';
import { causedBy, createEvent, type EventEnvelope } from '@mlops/contracts';
import { applyOnce, type ApplyOnceResult } from '@mlops/persistence';
import type { MaterializedDataset, Materializer } from './materialize/materializer';
import { FeatureStoreMetrics } from './metrics';
import type { AppendResult, EntityRow, FeatureRow, OfflineStore } from './offline/offline-store';
import type { OnlineRow, OnlineStore } from './online/online-store';
import { extractViewEvent, type Scalar, type ViewEvent } from './views/feature-row';
import { KeyedQueue } from './windows/keyed-queue';
import { featureNames, type FeatureView } from './views/feature-view';

export const SERVICE = 'feature-store';
/** Table prefix of the service's own tables. */
export const TABLE_PREFIX = 'feature_store';
const EVENT_ID_NAMESPACE = '0b7a3f52-5f0e-4d1c-8f64-9a2a1d6c4e21';
export const MAX_ENTITY_KEYS = 1_000;

export class UnknownViewError extends Error {
  constructor(readonly view: string) {
    super(`feature view "${view}" is not defined`);
    this.name = 'UnknownViewError';
  }
}

export class InvalidRequestError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'InvalidRequestError';
  }
}

export interface FeatureStoreStats {
  /** Feature rows written (one per event and view). */
  applied: number;
  /** Redelivered events recognised and not applied again. */
  duplicates: number;
  /** data.validated events of sources that no view uses (ignored by design). */
  ignored: number;
  /** Records a view could not use (missing entity key or timestamp), per view. */
  rejected: Record<string, number>;
  /** Applied events whose own row is not the online value: the entity already had a newer one. */
  lateOnline: number;
  /** Events not newer than their entity's latest event (inserted, later rows recomputed). */
  lateEvents: number;
  /** History rows rewritten because a late event changed their windowed aggregations. */
  recomputedRows: number;
  /** retrain.requested events without a featureView (nothing to materialize). */
  retrainWithoutView: number;
}

export interface OnlineResult {
  entityKey: string;
  row?: OnlineRow;
}

type Log = { log(m: string): void; warn(m: string): void };

/**
 * The feature store: applies data.validated to the views fed by its source (offline
 * history + online latest values), serves online features and point-in-time history, and
 * materializes dataset snapshots.
 */
export class FeatureStoreService {
  private readonly views = new Map<string, FeatureView>();
  /** Per view, what every online read needs, computed once: its feature names in column order, as a set. */
  private readonly readShapes = new Map<string, { names: readonly string[]; known: ReadonlySet<string> }>();
  private readonly bySource = new Map<string, FeatureView[]>();
  readonly stats: FeatureStoreStats = { applied: 0, duplicates: 0, ignored: 0, rejected: {}, lateOnline: 0, lateEvents: 0, recomputedRows: 0, retrainWithoutView: 0 };
  /** Serializes the events of one entity of one view in this process (its window state). */
  private readonly perEntity = new KeyedQueue();

  constructor(
    views: FeatureView[],
    private readonly dataSource: DataSource,
    readonly offline: OfflineStore,
    readonly online: OnlineStore,
    private readonly materializer: Materializer,
    private readonly log: Log,
    readonly metrics: FeatureStoreMetrics = new FeatureStoreMetrics(),
  ) {
    for (const view of views) {
      this.views.set(view.name, view);
      const names = featureNames(view);
      this.readShapes.set(view.name, { names, known: new Set(names) });
      this.bySource.set(view.source, [...(this.bySource.get(view.source) ?? []), view]);
      this.stats.rejected[view.name] = 0;
    }
  }

  listViews(): FeatureView[] {
    return [...this.views.values()];
  }

  view(name: string): FeatureView {
    const view = this.views.get(name);
    if (!view) throw new UnknownViewError(name);
    return view;
  }

  /**
   * Applies one data.validated event to every view of its source, once per view even when
   * redelivered (applyOnce). Events of other sources are ignored. A record a view cannot use
   * is counted and logged; when no view of the source could use it, it is dead-lettered.
   */
  async applyValidated(event: EventEnvelope<'data.validated'>): Promise<void> {
    const views = this.bySource.get(event.data.source);
    if (!views) {
      this.stats.ignored++;
      return;
    }
    const problems: string[] = [];
    let used = 0;
    for (const view of views) {
      const extraction = extractViewEvent(view, event.data.record);
      if (!extraction.ok) {
        this.stats.rejected[view.name]++;
        this.metrics.eventsRejected.inc({ view: view.name, field: extraction.field });
        problems.push(`${view.name}: ${extraction.reason}`);
        this.log.warn(`rejected record ${event.data.recordId} of source ${event.data.source} for view ${view.name}: ${extraction.reason}`);
        continue;
      }
      used++;
      const { entityKey } = extraction.event;
      await this.perEntity.run(`${view.name}\u0000${entityKey}`, () => this.applyToView(view, event.id, extraction.event));
    }
    if (used === 0) {
      this.metrics.deadLettered.inc();
      throw new PermanentError(`record ${event.data.recordId} of source ${event.data.source} fits no feature view: ${problems.join('; ')}`);
    }
  }

  /** One event into one view: history row (+ rows a late event changes), then the online row. */
  private async applyToView(view: FeatureView, eventId: string, viewEvent: ViewEvent): Promise<void> {
    let outcome: ApplyOnceResult<AppendResult>;
    try {
      outcome = await applyOnce(this.dataSource, TABLE_PREFIX, `data.validated:${view.name}`, eventId, (manager) =>
        this.offline.append(manager, view, eventId, viewEvent),
      );
    } catch (error) {
      // The window state may hold the event of the rolled-back transaction.
      this.offline.windows.evict(view.name, viewEvent.entityKey);
      throw error;
    }
    if (outcome.applied) {
      const { row, late, rewritten } = outcome.result;
      this.stats.applied++;
      this.metrics.eventsIngested.inc({ view: view.name, late: String(late) });
      if (late) {
        this.stats.lateEvents++;
        this.stats.recomputedRows += rewritten.length;
        this.metrics.rowsRecomputed.inc({ view: view.name }, rewritten.length);
      }
      // The newest row written, in history order (time, event id): a rewritten later row when
      // a late event changed the entity's latest aggregations, else the event's own row.
      const newest = [row, ...rewritten].reduce((a, b) => (b.eventTimeMs > a.eventTimeMs || (b.eventTimeMs === a.eventTimeMs && b.eventId > a.eventId) ? b : a));
      const stored = await this.putOnline(view, newest);
      if (newest !== row || !stored) this.stats.lateOnline++;
      return;
    }
    // Applied before (maybe by an instance that died before the online write): the stored
    // row is written again; the online store's forward-only rule makes it idempotent.
    this.stats.duplicates++;
    const row = await this.offline.row(view.name, eventId);
    if (row && !(await this.putOnline(view, row))) this.stats.lateOnline++;
  }

  private async putOnline(view: FeatureView, row: FeatureRow): Promise<boolean> {
    const stored = await this.online.put(view.name, row.entityKey, { eventTimeMs: row.eventTimeMs, values: row.values });
    if (stored) this.metrics.freshnessLag.observe({ view: view.name }, Math.max(0, Date.now() - row.eventTimeMs) / 1_000);
    return stored;
  }

  /**
   * Latest values of many entities; entities without values have no row. The online read
   * path (one call per model request): no per-call schema parsing or name lists, only the
   * checks a request can fail, each naming its field.
   */
  async onlineFeatures(viewName: string, entityKeys: string[], features: string[] = []): Promise<{ view: FeatureView; names: readonly string[]; results: OnlineResult[] }> {
    const view = this.view(viewName);
    const shape = this.readShapes.get(view.name)!;
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
    options: { cause?: EventEnvelope; model?: string; correlationId?: string } = {},
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
    if (!this.views.has(viewName)) throw new PermanentError(new UnknownViewError(viewName).message);
    const dataset = await this.materialize(viewName, {});
    return this.materializedEvent(dataset, { cause: event, model: event.data.model });
  }
}
