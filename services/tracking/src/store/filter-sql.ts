import type { Clause, FilterExpr, SearchKeys } from '../search/search-filter';

/** Where a searched entity's fields live: its table's alias and id column, and its key/value tables. */
export interface FilterTables {
  /** Alias of the searched table in the outer query, e.g. `r`. */
  alias: string;
  /** The id column, named the same in the key/value tables. */
  id: string;
  attributes: SearchKeys['attributes'];
  params: string;
  tags: string;
  /** Latest metrics (key, value, is_nan), when the entity has metrics. */
  metrics?: string;
  /** Dataset inputs (name, digest, context), when the entity has them. */
  datasets?: string;
}

/** Adds a bound value; returns its placeholder. */
export type Bind = (value: unknown) => string;

/**
 * A parsed filter as one SQL condition: attributes compare columns, each param, tag, metric
 * or dataset clause is an EXISTS (NOT EXISTS for IS NULL) on its table; AND/OR nest in
 * parentheses. Postgres or SQLite (LIKE is case-sensitive on both: GLOB on SQLite).
 */
export function filterSql(expr: FilterExpr, tables: FilterTables, bind: Bind, postgres: boolean): string {
  if ('op' in expr) return `(${expr.terms.map((t) => filterSql(t, tables, bind, postgres)).join(` ${expr.op} `)})`;
  return clauseSql(expr, tables, bind, postgres);
}

function clauseSql(clause: Clause, tables: FilterTables, bind: Bind, postgres: boolean): string {
  const { kind, key, comparator, value } = clause;
  const compare = (column: string): string => {
    if (comparator === 'IN' || comparator === 'NOT IN') return `${column} ${comparator} (${(value as string[]).map(bind).join(', ')})`;
    if (comparator === 'ILIKE') return `LOWER(${column}) LIKE LOWER(${bind(value)})`;
    if (comparator === 'LIKE') return postgres ? `${column} LIKE ${bind(value)}` : `${column} GLOB ${bind(likeToGlob(value as string))}`;
    return `${column} ${comparator} ${bind(value)}`;
  };
  const owner = `f.${tables.id} = ${tables.alias}.${tables.id}`;
  if (kind === 'attribute') return compare(`${tables.alias}.${tables.attributes[key].column}`);
  if (kind === 'dataset') return !tables.datasets ? '(1 = 0)' : `EXISTS (SELECT 1 FROM ${tables.datasets} f WHERE ${owner} AND ${compare(`f.${key}`)})`;
  const table = kind === 'metric' ? tables.metrics : kind === 'param' ? tables.params : tables.tags;
  // An entity without metrics has none to match (as in MLflow, a missing metric matches nothing).
  if (!table) return '(1 = 0)';
  if (comparator === 'IS NULL' || comparator === 'IS NOT NULL') {
    return `${comparator === 'IS NULL' ? 'NOT ' : ''}EXISTS (SELECT 1 FROM ${table} f WHERE ${owner} AND f.key = ${bind(key)})`;
  }
  const nan = kind === 'metric' ? ' AND NOT f.is_nan' : '';
  return `EXISTS (SELECT 1 FROM ${table} f WHERE ${owner} AND f.key = ${bind(key)}${nan} AND ${compare('f.value')})`;
}

/** SQL LIKE (% and _) as a case-sensitive SQLite GLOB. */
function likeToGlob(pattern: string): string {
  return pattern.replace(/[[*?\]]/g, (c) => `[${c}]`).replace(/%/g, '*').replace(/_/g, '?');
}
