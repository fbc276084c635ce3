import { Inject, Injectable } from '@nestjs/common';
import type { ApplyOnceResult } from '@mlops/persistence';
import { FEATURE_STORE_SETTINGS, type FeatureStoreSettings } from '../feature-store.settings';
import { longestWindowMs, type FeatureValues, type ViewEvent } from '../views/feature-row';
import { aggregationsAt } from '../windows/window-state';
import { WindowStateCache, type WindowSeedSource } from '../windows/window-state-cache';
import type { FeatureView } from '../views/feature-view';
import { FeatureRowRepository, type FeatureRow, type FeatureRowTx, type StoredEvent } from './feature-row.repository';

export type { FeatureRow, FeatureRowTx };

export interface EntityRow {
  entityKey: string;
  /** The time the features are wanted as of (epoch ms): a training label's time. */
  timestampMs: number;
}

const CHUNK = 500;

export interface AppendResult {
  /** The row of the applied event. */
  row: FeatureRow;
  /** True when the event was not newer than the entity's latest event (the recompute path). */
  late: boolean;
  /** Other rows of the entity whose aggregations changed because of a late event, oldest first. */
  rewritten: FeatureRow[];
}

/**
 * The offline store: the full history of a view's feature rows, one per applied event,
 * each holding the view's values as of that event's time, and the event's aggregation
 * inputs. An event newer than the entity's latest one is aggregated incrementally from the
 * entity's window state (O(1) amortised); an older (late) or equal-time event is inserted
 * and every row it changes, those with time in [t, t + longest window), is recomputed, so
 * point-in-time reads never miss a late event.
 */
@Injectable()
export class OfflineStore implements WindowSeedSource {
  readonly windows: WindowStateCache;

  constructor(
    private readonly rows: FeatureRowRepository,
    @Inject(FEATURE_STORE_SETTINGS) settings: Pick<FeatureStoreSettings, 'offline'>,
  ) {
    this.windows = new WindowStateCache(this, settings.offline.windowCacheEntities);
  }

  /**
   * Appends the row of one event once per `consumer` and event id, in one transaction with
   * the processed id (a redelivery is not applied again: `applied` is false).
   */
  async appendOnce(consumer: string, view: FeatureView, eventId: string, event: ViewEvent): Promise<ApplyOnceResult<AppendResult>> {
    try {
      return await this.rows.applyOnce(consumer, eventId, (tx) => this.append(tx, view, eventId, event));
    } catch (error) {
      // The window state may hold the event of the rolled-back transaction.
      this.windows.evict(view.name, event.entityKey);
      throw error;
    }
  }

  /**
   * Appends the row of one event (and rewrites the rows a late event changes). Runs in the
   * caller's transaction (applyOnce), so the rows and the processed event id commit
   * together; when that transaction fails the caller must evict the entity's window state.
   */
  async append(tx: FeatureRowTx, view: FeatureView, eventId: string, event: ViewEvent): Promise<AppendResult> {
    const state = await this.windows.get(tx, view, event.entityKey);
    if (event.eventTimeMs > state.latestMs) {
      state.push(event.eventTimeMs, event.inputs);
      const values = { ...event.features, ...state.valuesAt(event.eventTimeMs) };
      await this.insert(tx, view, eventId, event, values);
      return { row: { view: view.name, eventId, entityKey: event.entityKey, eventTimeMs: event.eventTimeMs, values }, late: false, rewritten: [] };
    }
    // The cached state lacks this event; rebuilt from the store on the entity's next event.
    this.windows.evict(view.name, event.entityKey);
    return this.appendLate(tx, view, eventId, event);
  }

  private async appendLate(tx: FeatureRowTx, view: FeatureView, eventId: string, event: ViewEvent): Promise<AppendResult> {
    const window = longestWindowMs(view);
    const t = event.eventTimeMs;
    const stored: StoredEvent[] = window === 0 ? [] : await this.rows.eventsBetween(tx, view.name, event.entityKey, t - window + 1, t + window - 1);
    const mine: StoredEvent = { eventId, eventTimeMs: t, inputs: event.inputs };
    const at = stored.findIndex((e) => e.eventTimeMs > t);
    const events = at < 0 ? [...stored, mine] : [...stored.slice(0, at), mine, ...stored.slice(at)];
    // Rows whose window (t' - window, t'] holds t: those with t <= t' < t + window.
    const affected = events.filter((e) => e.eventTimeMs >= t);
    const aggregations = aggregationsAt(view, events, affected.map((e) => e.eventTimeMs));
    const aggregationNames = new Set(view.aggregations.map((a) => a.name));
    let row: FeatureRow | undefined;
    const rewritten: FeatureRow[] = [];
    for (const [i, e] of affected.entries()) {
      if (e === mine) {
        const values = { ...event.features, ...aggregations[i] };
        await this.insert(tx, view, eventId, event, values);
        row = { view: view.name, eventId, entityKey: event.entityKey, eventTimeMs: t, values };
        continue;
      }
      const features = Object.fromEntries(Object.entries(e.values!).filter(([name]) => !aggregationNames.has(name)));
      const values = { ...features, ...aggregations[i] };
      await this.rows.updateValues(tx, view.name, e.eventId, values);
      rewritten.push({ view: view.name, eventId: e.eventId, entityKey: event.entityKey, eventTimeMs: e.eventTimeMs, values });
    }
    // `mine` is always affected (its own time is >= t), so its row is set above.
    return { row: row!, late: true, rewritten };
  }

  private insert(tx: FeatureRowTx, view: FeatureView, eventId: string, event: ViewEvent, values: FeatureValues): Promise<void> {
    return this.rows.insert(tx, { view: view.name, eventId, entityKey: event.entityKey, eventTimeMs: event.eventTimeMs, values, inputs: event.inputs });
  }

  /** The entity's events in (latest - longest window, latest], oldest first: seeds its window state. */
  async latestWindow(tx: FeatureRowTx, view: FeatureView, entityKey: string): Promise<{ eventTimeMs: number; inputs: Record<string, number | null> }[]> {
    const to = await this.rows.latestEventTime(tx, view.name, entityKey);
    if (to === undefined) return [];
    // At least the latest event itself, so a view without aggregations still knows its latest time.
    const from = to - Math.max(longestWindowMs(view), 1) + 1;
    return this.rows.inputsBetween(tx, view.name, entityKey, from, to);
  }

  keepSourceRecord(source: string, eventId: string, record: Record<string, unknown>): Promise<void> {
    return this.rows.keepSourceRecord(source, eventId, record);
  }

  sourceRecords(source: string): Promise<{ eventId: string; record: Record<string, unknown> }[]> {
    return this.rows.sourceRecords(source);
  }

  /** Forgets a view's rows and window states before it is rebuilt under a changed definition. */
  async clearView(view: string): Promise<number> {
    this.windows.evictView(view);
    return this.rows.deleteView(view);
  }

  /** Throws when the database does not answer. */
  ping(): Promise<void> {
    return this.rows.ping();
  }

  row(view: string, eventId: string): Promise<FeatureRow | undefined> {
    return this.rows.row(view, eventId);
  }

  /** How many rows a view holds: one per applied event. */
  rowCount(view: string): Promise<number> {
    return this.rows.count(view);
  }

  /** Every row of a view with event time in [fromMs, toMs], in (entity, time, event id) order. */
  history(view: string, range: { fromMs?: number; toMs?: number } = {}): Promise<FeatureRow[]> {
    return this.rows.history(view, range);
  }

  /**
   * Point-in-time correct retrieval: for each entity row, the entity's latest feature row
   * with event time <= the entity row's timestamp, never a later one (no leakage);
   * undefined when the entity had no row by then.
   */
  async asOf(view: string, entityRows: EntityRow[]): Promise<(FeatureRow | undefined)[]> {
    const keys = [...new Set(entityRows.map((r) => r.entityKey))];
    const history = new Map<string, FeatureRow[]>();
    for (let i = 0; i < keys.length; i += CHUNK) {
      const chunk = keys.slice(i, i + CHUNK);
      const maxTs = Math.max(...entityRows.filter((r) => chunk.includes(r.entityKey)).map((r) => r.timestampMs));
      for (const r of await this.rows.upTo(view, chunk, maxTs)) {
        if (!history.has(r.entityKey)) history.set(r.entityKey, []);
        history.get(r.entityKey)!.push(r);
      }
    }
    return entityRows.map(({ entityKey, timestampMs }) => {
      const rows = history.get(entityKey);
      if (!rows) return undefined;
      // The last row with eventTimeMs <= timestampMs (rows are sorted by event time).
      let lo = 0;
      let hi = rows.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (rows[mid].eventTimeMs <= timestampMs) lo = mid + 1;
        else hi = mid;
      }
      return lo === 0 ? undefined : rows[lo - 1];
    });
  }
}
