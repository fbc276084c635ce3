import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ATTRIBUTES, type FilterExpr, type OrderBy } from '../search/search-filter';
import { filterSql, type FilterTables } from './filter-sql';

const RUN_TABLES: FilterTables = {
  alias: 'r',
  id: 'run_uuid',
  attributes: ATTRIBUTES,
  params: 'tracking_params',
  tags: 'tracking_tags',
  metrics: 'tracking_latest_metrics',
  datasets: 'tracking_run_datasets',
};

/** A parsed runs/search: which runs, in which order, which slice. */
export interface RunQuery {
  experimentIds: number[];
  /** The lifecycle stage; every stage without one. */
  stage?: string;
  filter?: FilterExpr;
  orderBy: OrderBy[];
  limit: number;
  offset: number;
}

/**
 * runs/search as one SQL query over tracking_runs: the filter as filterSql writes it; each
 * order_by on params, tags or metrics a LEFT JOIN. Postgres or SQLite.
 */
@Injectable()
export class RunSearchRepository {
  private readonly postgres: boolean;

  constructor(private readonly dataSource: DataSource) {
    this.postgres = dataSource.options.type === 'postgres';
  }

  /** `$1, $2` on Postgres, `?` on SQLite. */
  private placeholder(params: unknown[], value: unknown): string {
    params.push(value);
    return this.postgres ? `$${params.length}` : '?';
  }

  /** The ids of the matching runs, in order. */
  async findRunIds(query: RunQuery): Promise<string[]> {
    const params: unknown[] = [];
    const p = (value: unknown) => this.placeholder(params, value);
    // Placeholders in text order (SQLite's `?` are positional): joins, then the conditions.
    const joins: string[] = [];
    const order: string[] = [];
    query.orderBy.forEach((o, i) => this.orderTerm(o, i, p, joins, order));
    const where = [`r.experiment_id IN (${query.experimentIds.map(p).join(', ')})`];
    if (query.stage) where.push(`r.lifecycle_stage = ${p(query.stage)}`);
    if (query.filter) where.push(filterSql(query.filter, RUN_TABLES, p, this.postgres));
    if (!query.orderBy.some((o) => o.kind === 'attribute' && ATTRIBUTES[o.key].column === 'start_time')) order.push('r.start_time DESC');
    order.push('r.run_uuid ASC');
    const sql = `SELECT r.run_uuid AS run_uuid FROM tracking_runs r ${joins.join(' ')}
      WHERE ${where.join(' AND ')} ORDER BY ${order.join(', ')} LIMIT ${query.limit} OFFSET ${query.offset}`;
    return ((await this.dataSource.query(sql, params)) as { run_uuid: string }[]).map((r) => r.run_uuid);
  }

  private orderTerm(o: OrderBy, i: number, p: (value: unknown) => string, joins: string[], order: string[]): void {
    const direction = o.ascending ? 'ASC' : 'DESC';
    if (o.kind === 'attribute') {
      const column = `r.${ATTRIBUTES[o.key].column}`;
      order.push(`CASE WHEN ${column} IS NULL THEN 1 ELSE 0 END`, `${column} ${direction}`);
      return;
    }
    const table = o.kind === 'metric' ? 'tracking_latest_metrics' : o.kind === 'param' ? 'tracking_params' : 'tracking_tags';
    const alias = `o${i}`;
    joins.push(`LEFT JOIN ${table} ${alias} ON ${alias}.run_uuid = r.run_uuid AND ${alias}.key = ${p(o.key)}`);
    // Runs without the metric (and NaN values) sort last either way, as in MLflow.
    const missing = o.kind === 'metric' ? `${alias}.value IS NULL OR ${alias}.is_nan` : `${alias}.value IS NULL`;
    order.push(`CASE WHEN ${missing} THEN 1 ELSE 0 END`, `${alias}.value ${direction}`);
  }
}
