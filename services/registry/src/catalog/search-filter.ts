import { InvalidInputError } from '@mlops/errors';

export interface FilterClause {
  key: string;
  op: string;
  value: string;
}

/** `key = 'value'` clauses joined by AND (MLflow's registry filter, the subset this store supports). */
export function parseFilter(filter: string | undefined, keys: string[]): FilterClause[] {
  if (!filter || !filter.trim()) return [];
  return filter.split(/\s+AND\s+/i).map((part) => {
    const match = /^\s*(\w+)\s*(=|!=|LIKE|ILIKE)\s*'([^']*)'\s*$/i.exec(part);
    if (!match || !keys.includes(match[1])) {
      throw new InvalidInputError(`unsupported filter "${part.trim()}": expected ${keys.map((k) => `${k} = '...'`).join(' or ')} (LIKE/ILIKE allowed), joined by AND`);
    }
    return { key: match[1], op: match[2].toUpperCase(), value: match[3] };
  });
}

export function matches(actual: string | null, op: string, value: string): boolean {
  if (op === '=') return actual === value;
  if (op === '!=') return actual !== value;
  const pattern = new RegExp(`^${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.')}$`, op === 'ILIKE' ? 'i' : '');
  return actual !== null && pattern.test(actual);
}
