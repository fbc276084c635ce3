import { Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { inTransaction } from '@mlops/persistence';
import type { KeyValue } from '../runs/run';
import type { FilterExpr, OrderBy, SearchKeys } from '../search/search-filter';
import { filterSql, type FilterTables } from './filter-sql';
import { LoggedModelEntity, LoggedModelParamEntity, LoggedModelTagEntity, type LoggedModelRow, type ModelKeyValueRow } from './model-entities';

/** A logged model with its params and tags, each by key. */
export interface LoggedModelWithData {
  info: LoggedModelRow;
  params: KeyValue[];
  tags: KeyValue[];
}

/** A parsed logged-models/search. */
export interface LoggedModelQuery {
  experimentIds: number[];
  filter?: FilterExpr;
  orderBy: OrderBy[];
  limit: number;
  offset: number;
}

/** Attributes a logged-model filter or order_by may name (MLflow's SearchLoggedModelsUtils). */
export const LOGGED_MODEL_KEYS: SearchKeys = {
  attributes: {
    model_id: { column: 'model_id', numeric: false },
    name: { column: 'name', numeric: false },
    model_type: { column: 'model_type', numeric: false },
    status: { column: 'status', numeric: false },
    source_run_id: { column: 'source_run_id', numeric: false },
    creation_timestamp: { column: 'creation_timestamp_ms', numeric: true },
    creation_time: { column: 'creation_timestamp_ms', numeric: true },
    last_updated_timestamp: { column: 'last_updated_timestamp_ms', numeric: true },
    last_updated_time: { column: 'last_updated_timestamp_ms', numeric: true },
  },
  listAttributes: ['model_id', 'name', 'source_run_id'],
  datasets: false,
};

const MODEL_TABLES: FilterTables = {
  alias: 'm',
  id: 'model_id',
  attributes: LOGGED_MODEL_KEYS.attributes,
  params: 'tracking_logged_model_params',
  tags: 'tracking_logged_model_tags',
};

const keyValue = (r: ModelKeyValueRow): KeyValue => ({ key: r.key, value: r.value });

/** tracking_logged_models with their params and tags. */
@Injectable()
export class LoggedModelRepository {
  private readonly postgres: boolean;

  constructor(private readonly dataSource: DataSource) {
    this.postgres = dataSource.options.type === 'postgres';
  }

  /** The model with its params and tags, in one transaction. */
  async insert(row: LoggedModelRow, params: KeyValue[], tags: KeyValue[]): Promise<void> {
    await inTransaction(this.dataSource, async (tx) => {
      await tx.insert(LoggedModelEntity, row);
      if (params.length) await tx.insert(LoggedModelParamEntity, params.map((p) => ({ modelId: row.modelId, ...p })));
      if (tags.length) await tx.insert(LoggedModelTagEntity, tags.map((t) => ({ modelId: row.modelId, ...t })));
    });
  }

  find(modelId: string): Promise<LoggedModelRow | null> {
    return this.dataSource.getRepository(LoggedModelEntity).findOne({ where: { modelId } });
  }

  async update(modelId: string, patch: Partial<Pick<LoggedModelRow, 'status' | 'lifecycleStage' | 'lastUpdatedTimestampMs'>>): Promise<void> {
    await this.dataSource.getRepository(LoggedModelEntity).update({ modelId }, patch);
  }

  /** Sets the params; a key given again takes the new value. */
  async upsertParams(modelId: string, params: KeyValue[]): Promise<void> {
    if (params.length) await this.dataSource.getRepository(LoggedModelParamEntity).upsert(params.map((p) => ({ modelId, ...p })), ['modelId', 'key']);
  }

  async upsertTags(modelId: string, tags: KeyValue[]): Promise<void> {
    if (tags.length) await this.dataSource.getRepository(LoggedModelTagEntity).upsert(tags.map((t) => ({ modelId, ...t })), ['modelId', 'key']);
  }

  /** False when the model has no such tag. */
  async deleteTag(modelId: string, key: string): Promise<boolean> {
    const result = await this.dataSource.getRepository(LoggedModelTagEntity).delete({ modelId, key });
    return !!result.affected;
  }

  /** Models with their params and tags, in the order of `ids`; unknown ids are left out. */
  async findWithData(ids: string[]): Promise<LoggedModelWithData[]> {
    if (ids.length === 0) return [];
    const where = { modelId: In(ids) };
    const models = await this.dataSource.getRepository(LoggedModelEntity).find({ where });
    const params = await this.dataSource.getRepository(LoggedModelParamEntity).find({ where, order: { key: 'ASC' } });
    const tags = await this.dataSource.getRepository(LoggedModelTagEntity).find({ where, order: { key: 'ASC' } });
    const byId = new Map(models.map((m) => [m.modelId, m]));
    return ids
      .filter((id) => byId.has(id))
      .map((id) => ({
        info: byId.get(id)!,
        params: params.filter((p) => p.modelId === id).map(keyValue),
        tags: tags.filter((t) => t.modelId === id).map(keyValue),
      }));
  }

  /** The ids of the active models matching the query, in order (newest first unless ordered otherwise). */
  async findIds(query: LoggedModelQuery): Promise<string[]> {
    const params: unknown[] = [];
    const bind = (value: unknown) => {
      params.push(value);
      return this.postgres ? `$${params.length}` : '?';
    };
    const joins: string[] = [];
    const order: string[] = [];
    query.orderBy.forEach((o, i) => {
      const direction = o.ascending ? 'ASC' : 'DESC';
      if (o.kind === 'attribute') {
        order.push(`m.${MODEL_TABLES.attributes[o.key].column} ${direction}`);
        return;
      }
      // Logged models here carry no metrics: ordering by one leaves the order as it is.
      if (o.kind === 'metric') return;
      const alias = `o${i}`;
      joins.push(`LEFT JOIN ${o.kind === 'param' ? MODEL_TABLES.params : MODEL_TABLES.tags} ${alias} ON ${alias}.model_id = m.model_id AND ${alias}.key = ${bind(o.key)}`);
      order.push(`CASE WHEN ${alias}.value IS NULL THEN 1 ELSE 0 END`, `${alias}.value ${direction}`);
    });
    const where = [`m.experiment_id IN (${query.experimentIds.map(bind).join(', ')})`, `m.lifecycle_stage = ${bind('active')}`];
    if (query.filter) where.push(filterSql(query.filter, MODEL_TABLES, bind, this.postgres));
    order.push('m.creation_timestamp_ms DESC', 'm.model_id ASC');
    const sql = `SELECT m.model_id AS model_id FROM tracking_logged_models m ${joins.join(' ')}
      WHERE ${where.join(' AND ')} ORDER BY ${order.join(', ')} LIMIT ${query.limit} OFFSET ${query.offset}`;
    return ((await this.dataSource.query(sql, params)) as { model_id: string }[]).map((r) => r.model_id);
  }
}
