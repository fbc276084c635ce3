import { Between, In, LessThanOrEqual, type DataSource, type EntityManager, type FindOptionsWhere } from 'typeorm';
import { longestWindowMs, type FeatureValues, type ViewEvent } from '../views/feature-row';
import { aggregationsAt } from '../windows/window-state';
import { WindowStateCache, type WindowSeedSource } from '../windows/window-state-cache';
import type { FeatureView } from '../views/feature-view';
import { FeatureRowEntity, type FeatureRowRecord } from './feature-row.entity';

export interface FeatureRow {
  view: string;
  eventId: string;
  entityKey: string;
  eventTimeMs: number;
  values: FeatureValues;
}

export interface EntityRow {
  entityKey: string;
  /** The time the features are wanted as of (epoch ms): a training label's time. */
  timestampMs: number;
}

const CHUNK = 500;

const toRow = (r: FeatureRowRecord): FeatureRow => ({
  view: r.view,
  eventId: r.eventId,
  entityKey: r.entityKey,
  eventTimeMs: Number(r.eventTimeMs),
  values: JSON.parse(r.values),
});

/** Rows in the order every reader relies on: entity, event time, event id. */
const ORDER = { entityKey: 'ASC', eventTimeMs: 'ASC', eventId: 'ASC' } as const;

export interface AppendResult {
  /** The row of the applied event. */
  row: FeatureRow;
  /** True when the event was not newer than the entity's latest event (the recompute path). */
  late: boolean;
  /** Other rows of the entity whose aggregations changed because of a late event, oldest first. */
  rewritten: FeatureRow[];
}

type StoredEvent = { eventId: string; eventTimeMs: number; inputs: Record<string, number | null>; values?: FeatureValues };

/**
 * The offline store: the full history of a view's feature rows, one per applied event,
 * each holding the view's values as of that event's time, and the event's aggregation
 * inputs. An event newer than the entity's latest one is aggregated incrementally from the
 * entity's window state (O(1) amortised); an older (late) or equal-time event is inserted
 * and every row it changes, those with time in [t, t + longest window), is recomputed, so
 * point-in-time reads never miss a late event.
 */
export class OfflineStore implements WindowSeedSource {
  readonly windows: WindowStateCache;

  constructor(
    private readonly dataSource: DataSource,
    options: { windowCacheEntities?: number } = {},
  ) {
    this.windows = new WindowStateCache(this, options.windowCacheEntities);
  }

  /**
   * Appends the row of one event (and rewrites the rows a late event changes). Runs in the
   * caller's transaction (applyOnce), so the rows and the processed event id commit
   * together; when that transaction fails the caller must evict the entity's window state.
   */
  async append(manager: EntityManager, view: FeatureView, eventId: string, event: ViewEvent): Promise<AppendResult> {
    const state = await this.windows.get(manager, view, event.entityKey);
    if (event.eventTimeMs > state.latestMs) {
      state.push(event.eventTimeMs, event.inputs);
      const values = { ...event.features, ...state.valuesAt(event.eventTimeMs) };
      await this.insert(manager, view, eventId, event, values);
      return { row: { view: view.name, eventId, entityKey: event.entityKey, eventTimeMs: event.eventTimeMs, values }, late: false, rewritten: [] };
    }
    // The cached state lacks this event; rebuilt from the store on the entity's next event.
    this.windows.evict(view.name, event.entityKey);
    return this.appendLate(manager, view, eventId, event);
  }

  private async appendLate(manager: EntityManager, view: FeatureView, eventId: string, event: ViewEvent): Promise<AppendResult> {
    const window = longestWindowMs(view);
    const t = event.eventTimeMs;
    const stored: StoredEvent[] =
      window === 0
        ? []
        : (
            await manager.find(FeatureRowEntity, {
              select: { eventId: true, eventTimeMs: true, inputs: true, values: true },
              where: { view: view.name, entityKey: event.entityKey, eventTimeMs: Between(t - window + 1, t + window - 1) },
              order: { eventTimeMs: 'ASC', eventId: 'ASC' },
            })
          ).map((r) => ({ eventId: r.eventId, eventTimeMs: Number(r.eventTimeMs), inputs: JSON.parse(r.inputs), values: JSON.parse(r.values) }));
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
        await this.insert(manager, view, eventId, event, values);
        row = { view: view.name, eventId, entityKey: event.entityKey, eventTimeMs: t, values };
        continue;
      }
      const features = Object.fromEntries(Object.entries(e.values!).filter(([name]) => !aggregationNames.has(name)));
      const values = { ...features, ...aggregations[i] };
      await manager.update(FeatureRowEntity, { view: view.name, eventId: e.eventId }, { values: JSON.stringify(values) });
      rewritten.push({ view: view.name, eventId: e.eventId, entityKey: event.entityKey, eventTimeMs: e.eventTimeMs, values });
    }
    // `mine` is always affected (its own time is >= t), so its row is set above.
    return { row: row!, late: true, rewritten };
  }

  private async insert(manager: EntityManager, view: FeatureView, eventId: string, event: ViewEvent, values: FeatureValues): Promise<void> {
    await manager.insert(FeatureRowEntity, {
      view: view.name,
      eventId,
      entityKey: event.entityKey,
      eventTimeMs: event.eventTimeMs,
      values: JSON.stringify(values),
      inputs: JSON.stringify(event.inputs),
      recordedAt: new Date(),
    });
  }

  /** The entity's events in (latest - longest window, latest], oldest first: seeds its window state. */
  async latestWindow(manager: EntityManager, view: FeatureView, entityKey: string): Promise<{ eventTimeMs: number; inputs: Record<string, number | null> }[]> {
    const latest = await manager
      .createQueryBuilder()
      .select('MAX(r.event_time_ms)', 'latest')
      .from(FeatureRowEntity, 'r')
      .where('r.view = :view AND r.entity_key = :entityKey', { view: view.name, entityKey })
      .getRawOne<{ latest: string | number | null }>();
    if (latest?.latest === null || latest?.latest === undefined) return [];
    const to = Number(latest.latest);
    // At least the latest event itself, so a view without aggregations still knows its latest time.
    const from = to - Math.max(longestWindowMs(view), 1) + 1;
    const rows = await manager.find(FeatureRowEntity, {
      select: { eventTimeMs: true, inputs: true },
      where: { view: view.name, entityKey, eventTimeMs: Between(from, to) },
      order: { eventTimeMs: 'ASC', eventId: 'ASC' },
    });
    return rows.map((r) => ({ eventTimeMs: Number(r.eventTimeMs), inputs: JSON.parse(r.inputs) }));
  }

  async row(view: string, eventId: string): Promise<FeatureRow | undefined> {
    const found = await this.dataSource.getRepository(FeatureRowEntity).findOne({ where: { view, eventId } });
    return found ? toRow(found) : undefined;
  }

  /** Every row of a view with event time in [fromMs, toMs], in (entity, time, event id) order. */
  async history(view: string, range: { fromMs?: number; toMs?: number } = {}): Promise<FeatureRow[]> {
    const where: FindOptionsWhere<FeatureRowRecord> = { view };
    if (range.fromMs !== undefined || range.toMs !== undefined) {
      where.eventTimeMs = Between(range.fromMs ?? Number.MIN_SAFE_INTEGER, range.toMs ?? Number.MAX_SAFE_INTEGER);
    }
    const rows = await this.dataSource.getRepository(FeatureRowEntity).find({ where, order: ORDER });
    return rows.map(toRow);
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
      const rows = await this.dataSource.getRepository(FeatureRowEntity).find({
        where: { view, entityKey: In(chunk), eventTimeMs: LessThanOrEqual(maxTs) },
        order: ORDER,
      });
      for (const r of rows.map(toRow)) {
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
