import { Injectable } from '@nestjs/common';
import { Between, In, LessThanOrEqual, DataSource, type EntityManager, type FindOptionsWhere } from 'typeorm';
import { applyOnce, type ApplyOnceResult } from '@mlops/persistence';
import { TABLE_PREFIX } from '../feature-store.names';
import type { FeatureValues } from '../views/feature-row';
import { FeatureRowEntity, SourceRecordEntity, type FeatureRowRecord } from './feature-row.entity';

/** The transaction an event is applied in (its rows and its processed id commit together). */
export type FeatureRowTx = EntityManager;

export interface FeatureRow {
  view: string;
  eventId: string;
  entityKey: string;
  eventTimeMs: number;
  values: FeatureValues;
}

/** A stored event as the window aggregations need it. */
export interface StoredEvent {
  eventId: string;
  eventTimeMs: number;
  inputs: Record<string, number | null>;
  values?: FeatureValues;
}

const toRow = (r: FeatureRowRecord): FeatureRow => ({
  view: r.view,
  eventId: r.eventId,
  entityKey: r.entityKey,
  eventTimeMs: Number(r.eventTimeMs),
  values: JSON.parse(r.values),
});

/** Rows in the order every reader relies on: entity, event time, event id. */
const ORDER = { entityKey: 'ASC', eventTimeMs: 'ASC', eventId: 'ASC' } as const;

/** The feature_store_rows table: one feature row per applied event and view. */
@Injectable()
export class FeatureRowRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in a transaction that also records `eventId` as applied by `consumer`; once per event id. */
  applyOnce<T>(consumer: string, eventId: string, work: (tx: FeatureRowTx) => Promise<T>): Promise<ApplyOnceResult<T>> {
    return applyOnce(this.dataSource, TABLE_PREFIX, consumer, eventId, work);
  }

  async insert(tx: FeatureRowTx, row: FeatureRow & { inputs: Record<string, number | null> }): Promise<void> {
    await tx.insert(FeatureRowEntity, {
      view: row.view,
      eventId: row.eventId,
      entityKey: row.entityKey,
      eventTimeMs: row.eventTimeMs,
      values: JSON.stringify(row.values),
      inputs: JSON.stringify(row.inputs),
      recordedAt: new Date(),
    });
  }

  async updateValues(tx: FeatureRowTx, view: string, eventId: string, values: FeatureValues): Promise<void> {
    await tx.update(FeatureRowEntity, { view, eventId }, { values: JSON.stringify(values) });
  }

  /** The entity's events with time in [fromMs, toMs], with their values, in (time, event id) order. */
  async eventsBetween(tx: FeatureRowTx, view: string, entityKey: string, fromMs: number, toMs: number): Promise<StoredEvent[]> {
    const rows = await tx.find(FeatureRowEntity, {
      select: { eventId: true, eventTimeMs: true, inputs: true, values: true },
      where: { view, entityKey, eventTimeMs: Between(fromMs, toMs) },
      order: { eventTimeMs: 'ASC', eventId: 'ASC' },
    });
    return rows.map((r) => ({ eventId: r.eventId, eventTimeMs: Number(r.eventTimeMs), inputs: JSON.parse(r.inputs), values: JSON.parse(r.values) }));
  }

  /** The time of the entity's latest event; undefined when it has none. */
  async latestEventTime(tx: FeatureRowTx, view: string, entityKey: string): Promise<number | undefined> {
    const latest = await tx
      .createQueryBuilder()
      .select('MAX(r.event_time_ms)', 'latest')
      .from(FeatureRowEntity, 'r')
      .where('r.view = :view AND r.entity_key = :entityKey', { view, entityKey })
      .getRawOne<{ latest: string | number | null }>();
    return latest?.latest === null || latest?.latest === undefined ? undefined : Number(latest.latest);
  }

  /** The aggregation inputs of the entity's events with time in [fromMs, toMs], oldest first. */
  async inputsBetween(tx: FeatureRowTx, view: string, entityKey: string, fromMs: number, toMs: number): Promise<{ eventTimeMs: number; inputs: Record<string, number | null> }[]> {
    const rows = await tx.find(FeatureRowEntity, {
      select: { eventTimeMs: true, inputs: true },
      where: { view, entityKey, eventTimeMs: Between(fromMs, toMs) },
      order: { eventTimeMs: 'ASC', eventId: 'ASC' },
    });
    return rows.map((r) => ({ eventTimeMs: Number(r.eventTimeMs), inputs: JSON.parse(r.inputs) }));
  }

  async row(view: string, eventId: string): Promise<FeatureRow | undefined> {
    const found = await this.dataSource.getRepository(FeatureRowEntity).findOne({ where: { view, eventId } });
    return found ? toRow(found) : undefined;
  }

  /** How many rows a view holds: one per applied event. */
  count(view: string): Promise<number> {
    return this.dataSource.getRepository(FeatureRowEntity).count({ where: { view } });
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

  /** The rows of these entities with event time <= untilMs, in (entity, time, event id) order. */
  async upTo(view: string, entityKeys: string[], untilMs: number): Promise<FeatureRow[]> {
    const rows = await this.dataSource.getRepository(FeatureRowEntity).find({
      where: { view, entityKey: In(entityKeys), eventTimeMs: LessThanOrEqual(untilMs) },
      order: ORDER,
    });
    return rows.map(toRow);
  }

  /** Keeps the record of an applied data.validated event (once per source and event id). */
  async keepSourceRecord(source: string, eventId: string, record: Record<string, unknown>): Promise<void> {
    await this.dataSource
      .createQueryBuilder()
      .insert()
      .into(SourceRecordEntity)
      .values({ source, eventId, record: JSON.stringify(record), recordedAt: new Date() })
      .orIgnore()
      .execute();
  }

  /** Every kept record of a source, in the order they were kept. */
  async sourceRecords(source: string): Promise<{ eventId: string; record: Record<string, unknown> }[]> {
    const rows = await this.dataSource.getRepository(SourceRecordEntity).find({ where: { source }, order: { recordedAt: 'ASC', eventId: 'ASC' } });
    return rows.map((r) => ({ eventId: r.eventId, record: JSON.parse(r.record) }));
  }

  /** Deletes every row of a view (its definition changed; the rows are rebuilt). Returns how many. */
  async deleteView(view: string): Promise<number> {
    const result = await this.dataSource.getRepository(FeatureRowEntity).delete({ view });
    return result.affected ?? 0;
  }

  /** Throws when the database does not answer. */
  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }
}
