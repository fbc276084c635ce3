import { Between, In, LessThanOrEqual, type DataSource, type EntityManager, type FindOptionsWhere } from 'typeorm';
import { aggregate, longestWindowMs, type FeatureValues, type ViewEvent } from '../views/feature-row';
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

/**
 * The offline store: the full history of a view's feature rows, one per applied event,
 * each holding the view's values as of that event's time. Late events are accepted: the
 * row of a late event is computed from the events stored before it in event time.
 */
export class OfflineStore {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Appends the row of one event, computing the windowed aggregations per entity from the
   * entity's stored events inside the longest window plus this one. Runs in the caller's
   * transaction (applyOnce), so the row and the processed event id commit together.
   */
  async append(manager: EntityManager, view: FeatureView, eventId: string, event: ViewEvent): Promise<FeatureRow> {
    const window = longestWindowMs(view);
    const earlier =
      view.aggregations.length === 0
        ? []
        : await manager.find(FeatureRowEntity, {
            select: { eventTimeMs: true, inputs: true },
            where: { view: view.name, entityKey: event.entityKey, eventTimeMs: Between(event.eventTimeMs - window + 1, event.eventTimeMs) },
          });
    const inWindow = [
      ...earlier.map((r) => ({ eventTimeMs: Number(r.eventTimeMs), inputs: JSON.parse(r.inputs) })),
      { eventTimeMs: event.eventTimeMs, inputs: event.inputs },
    ];
    const values = { ...event.features, ...aggregate(view, inWindow, event.eventTimeMs) };
    await manager.insert(FeatureRowEntity, {
      view: view.name,
      eventId,
      entityKey: event.entityKey,
      eventTimeMs: event.eventTimeMs,
      values: JSON.stringify(values),
      inputs: JSON.stringify(event.inputs),
      recordedAt: new Date(),
    });
    return { view: view.name, eventId, entityKey: event.entityKey, eventTimeMs: event.eventTimeMs, values };
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
