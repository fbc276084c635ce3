import { Inject, Injectable } from '@nestjs/common';
import { PermanentError } from '@mlops/bus';
import type { EventEnvelope } from '@mlops/contracts';
import { FeatureStoreStats } from '../feature-store.stats';
import { FEATURE_STORE_LOG, type FeatureStoreLog } from '../feature-store.settings';
import { FeatureStoreMetrics } from '../metrics';
import { OfflineStore, type FeatureRow } from '../offline/offline-store';
import { OnlineStore } from '../online/online-store';
import { extractViewEvent, type ViewEvent } from '../views/feature-row';
import type { FeatureView } from '../views/feature-view';
import { FeatureViewCatalog } from '../views/feature-view-catalog';
import { KeyedQueue } from '../windows/keyed-queue';

/**
 * Applies data.validated to the views fed by its source: the offline history (with the
 * windowed aggregations) and the online latest values.
 */
@Injectable()
export class ValidatedEventApplier {
  /** Serializes the events of one entity of one view in this process (its window state). */
  private readonly perEntity = new KeyedQueue();

  constructor(
    private readonly catalog: FeatureViewCatalog,
    private readonly offline: OfflineStore,
    private readonly online: OnlineStore,
    private readonly stats: FeatureStoreStats,
    private readonly metrics: FeatureStoreMetrics,
    @Inject(FEATURE_STORE_LOG) private readonly log: FeatureStoreLog,
  ) {}

  /**
   * Applies one data.validated event to every view of its source, once per view even when
   * redelivered (applyOnce). Events of other sources are ignored. A record a view cannot use
   * is counted and logged; when no view of the source could use it, it is dead-lettered.
   */
  async apply(event: EventEnvelope<'data.validated'>): Promise<void> {
    const views = this.catalog.ofSource(event.data.source);
    if (!views) {
      this.stats.ignored++;
      return;
    }
    await this.offline.keepSourceRecord(event.data.source, event.id, event.data.record);
    const problems: string[] = [];
    let used = 0;
    for (const view of views) {
      const extraction = extractViewEvent(view, event.data.record);
      if (!extraction.ok) {
        this.stats.rejected[view.name] = (this.stats.rejected[view.name] ?? 0) + 1;
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

  /**
   * Fills a view from the kept records of its source (oldest event first), as if each had
   * just arrived; returns the rows written. Runs after the view's version is in force, so an
   * event the live consumer applies meanwhile is applied once (same consumer name).
   */
  async backfill(view: FeatureView): Promise<{ rows: number; rejected: number; failed: number }> {
    const events: { eventId: string; event: ViewEvent }[] = [];
    let rejected = 0;
    for (const { eventId, record } of await this.offline.sourceRecords(view.source)) {
      const extraction = extractViewEvent(view, record);
      if (extraction.ok) events.push({ eventId, event: extraction.event });
      else rejected++;
    }
    // In time order every event takes the incremental path, not the late-event recompute.
    events.sort((a, b) => a.event.eventTimeMs - b.event.eventTimeMs || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
    let rows = 0;
    let failed = 0;
    for (const { eventId, event } of events) {
      try {
        if (await this.perEntity.run(`${view.name}\u0000${event.entityKey}`, () => this.applyToView(view, eventId, event))) rows++;
      } catch (error) {
        // E.g. a row the previous version wrote while the view changed: kept, not rebuilt.
        failed++;
        this.log.warn(`backfill of view ${view.name}: event ${eventId} not applied: ${(error as Error).message}`);
      }
    }
    return { rows, rejected, failed };
  }

  /** One event into one view: history row (+ rows a late event changes), then the online row. */
  private async applyToView(view: FeatureView, eventId: string, viewEvent: ViewEvent): Promise<boolean> {
    // Each version of a view applies every event once; version 1 keeps the original name.
    const version = this.catalog.versionOf(view.name);
    const consumer = version > 1 ? `data.validated:${view.name}@v${version}` : `data.validated:${view.name}`;
    const outcome = await this.offline.appendOnce(consumer, view, eventId, viewEvent);
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
      return true;
    }
    // Applied before (maybe by an instance that died before the online write): the stored
    // row is written again; the online store's forward-only rule makes it idempotent.
    this.stats.duplicates++;
    const row = await this.offline.row(view.name, eventId);
    if (row && !(await this.putOnline(view, row))) this.stats.lateOnline++;
    return false;
  }

  private async putOnline(view: FeatureView, row: FeatureRow): Promise<boolean> {
    const stored = await this.online.put(view.name, row.entityKey, { eventTimeMs: row.eventTimeMs, values: row.values });
    if (stored) this.metrics.freshnessLag.observe({ view: view.name }, Math.max(0, Date.now() - row.eventTimeMs) / 1_000);
    return stored;
  }
}
