import { InvalidInputError } from '@mlops/errors';

export type EntityKind = 'metric' | 'param' | 'tag' | 'attribute';

export type Comparator = '=' | '!=' | '>' | '>=' | '<' | '<=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';

export interface Clause {
  kind: EntityKind;
  key: string;
  comparator: Comparator;
  value: number | string | string[];
}

export interface OrderBy {
  kind: EntityKind;
  key: string;
  ascending: boolean;
}

/** Attributes a filter or order_by may name, mapped to their column; `numeric` ones compare as numbers. */
export const ATTRIBUTES: Record<string, { column: string; numeric: boolean }> = {
  run_id: { column: 'run_uuid', numeric: false },
  run_name: { column: 'name', numeric: false },
  status: { column: 'status', numeric: false },
  user_id: { column: 'user_id', numeric: false },
  artifact_uri: { column: 'artifact_uri', numeric: false },
  start_time: { column: 'start_time', numeric: true },
  end_time: { column: 'end_time', numeric: true },
  created: { column: 'start_time', numeric: true },
  Created: { column: 'start_time', numeric: true },
};

const PREFIXES: Record<string, EntityKind> = {
  metric: 'metric',
  metrics: 'metric',
  param: 'param',
  params: 'param',
  parameter: 'param',
  parameters: 'param',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
};

type Token =
  | { type: 'ident'; text: string }
  | { type: 'string'; text: string }
  | { type: 'number'; text: string }
  | { type: 'op'; text: string }
  | { type: 'punct'; text: '(' | ')' | ',' };

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '"') {
      const end = input.indexOf(c, i + 1);
      if (end < 0) throw new InvalidInputError(`unterminated string in filter at position ${i}: ${input}`);
      tokens.push({ type: 'string', text: input.slice(i + 1, end) });
      i = end + 1;
    } else if (/[<>!=]/.test(c)) {
      const two = input.slice(i, i + 2);
      const op = ['>=', '<=', '!=', '=='].includes(two) ? two : c;
      if (op === '!') throw new InvalidInputError(`unexpected "!" in filter at position ${i}`);
      tokens.push({ type: 'op', text: op === '==' ? '=' : op });
      i += op.length;
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ type: 'punct', text: c });
      i++;
    } else if (/[-+\d.]/.test(c) && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.test(input.slice(i))) {
      const text = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.exec(input.slice(i))![0];
      tokens.push({ type: 'number', text });
      i += text.length;
    } else {
      // An identifier: word characters, dots and back-quoted parts (metrics.`my metric`).
      let text = '';
      while (i < input.length && !/[\s<>!=(),'"]/.test(input[i])) {
        if (input[i] === '`') {
          const end = input.indexOf('`', i + 1);
          if (end < 0) throw new InvalidInputError(`unterminated back-quote in filter at position ${i}`);
          text += input.slice(i + 1, end);
          i = end + 1;
        } else {
          text += input[i++];
        }
      }
      if (!text) throw new InvalidInputError(`unexpected character "${input[i]}" in filter at position ${i}`);
      tokens.push({ type: 'ident', text });
    }
  }
  return tokens;
}

/** `metrics.acc`, `params.lr`, `tags.mlflow.runName`, `attributes.status`, or a bare attribute name. */
export function parseIdentifier(text: string): { kind: EntityKind; key: string } {
  const dot = text.indexOf('.');
  const prefix = dot > 0 ? PREFIXES[text.slice(0, dot)] : undefined;
  if (prefix) {
    const key = text.slice(dot + 1);
    if (!key) throw new InvalidInputError(`"${text}" names no key`);
    if (prefix === 'attribute' && !(key in ATTRIBUTES)) {
      throw new InvalidInputError(`invalid attribute key "${key}"; expected one of ${Object.keys(ATTRIBUTES).join(', ')}`);
    }
    return { kind: prefix, key };
  }
  if (text in ATTRIBUTES) return { kind: 'attribute', key: text };
  throw new InvalidInputError(
    `invalid identifier "${text}": expected metrics.<key>, params.<key>, tags.<key> or attributes.<name>`,
  );
}

const NUMERIC_OPS = ['=', '!=', '>', '>=', '<', '<='];
const STRING_OPS = ['=', '!=', 'LIKE', 'ILIKE'];

/**
 * MLflow's search filter: comparisons joined by AND, e.g.
 * `metrics.acc > 0.5 AND params.model = 'lr' AND attributes.status = 'FINISHED'`.
 */
export function parseFilter(filter: string | undefined): Clause[] {
  if (!filter || !filter.trim()) return [];
  const tokens = tokenize(filter);
  const clauses: Clause[] = [];
  let i = 0;
  const next = () => tokens[i++];
  while (i < tokens.length) {
    const ident = next();
    if (ident.type !== 'ident') throw new InvalidInputError(`expected an identifier in filter "${filter}", got "${ident.text}"`);
    const { kind, key } = parseIdentifier(ident.text);
    let comparator: Comparator;
    const op = next();
    if (!op) throw new InvalidInputError(`filter "${filter}" ends after "${ident.text}"`);
    if (op.type === 'op') comparator = op.text as Comparator;
    else if (op.type === 'ident' && ['LIKE', 'ILIKE', 'IN'].includes(op.text.toUpperCase())) comparator = op.text.toUpperCase() as Comparator;
    else if (op.type === 'ident' && op.text.toUpperCase() === 'NOT' && tokens[i]?.text.toUpperCase() === 'IN') {
      i++;
      comparator = 'NOT IN';
    } else throw new InvalidInputError(`expected a comparator after "${ident.text}" in filter "${filter}", got "${op.text}"`);

    let value: Clause['value'];
    const numeric = kind === 'metric' || (kind === 'attribute' && ATTRIBUTES[key].numeric);
    if (comparator === 'IN' || comparator === 'NOT IN') {
      if (!(kind === 'attribute' && key === 'run_id') && kind !== 'param' && kind !== 'tag') {
        throw new InvalidInputError(`${comparator} is supported for attributes.run_id, params and tags, not "${ident.text}"`);
      }
      if (next()?.text !== '(') throw new InvalidInputError(`expected "(" after ${comparator} in filter "${filter}"`);
      const list: string[] = [];
      for (;;) {
        const item = next();
        if (!item || item.type !== 'string') throw new InvalidInputError(`expected a quoted string in the ${comparator} list of "${filter}"`);
        list.push(item.text);
        const sep = next();
        if (sep?.text === ')') break;
        if (sep?.text !== ',') throw new InvalidInputError(`expected "," or ")" in the ${comparator} list of "${filter}"`);
      }
      value = list;
    } else {
      const raw = next();
      if (!raw) throw new InvalidInputError(`filter "${filter}" ends after the comparator`);
      if (numeric) {
        if (!NUMERIC_OPS.includes(comparator)) throw new InvalidInputError(`"${comparator}" cannot compare the numeric "${ident.text}"`);
        if (raw.type !== 'number') throw new InvalidInputError(`expected a number to compare "${ident.text}" with, got "${raw.text}"`);
        value = Number(raw.text);
      } else {
        if (!STRING_OPS.includes(comparator)) {
          throw new InvalidInputError(`"${comparator}" cannot compare "${ident.text}"; use one of ${STRING_OPS.join(', ')}`);
        }
        if (raw.type !== 'string') throw new InvalidInputError(`expected a quoted string to compare "${ident.text}" with, got ${raw.text}`);
        value = raw.text;
      }
    }
    clauses.push({ kind, key, comparator, value });
    const joiner = next();
    if (joiner === undefined) break;
    if (joiner.type !== 'ident' || joiner.text.toUpperCase() !== 'AND') {
      throw new InvalidInputError(`expected AND in filter "${filter}", got "${joiner.text}" (OR is not supported)`);
    }
    if (i >= tokens.length) throw new InvalidInputError(`filter "${filter}" ends with AND`);
  }
  return clauses;
}

/** `metrics.acc DESC`, `attributes.start_time`, `params.lr ASC`. */
export function parseOrderBy(items: string[] | undefined): OrderBy[] {
  return (items ?? []).map((item) => {
    const match = /^\s*(.+?)(?:\s+(ASC|DESC))?\s*$/i.exec(item);
    if (!match) throw new InvalidInputError(`invalid order_by "${item}"`);
    const identifier = match[1].replace(/`([^`]*)`/g, '$1');
    if (/\s/.test(identifier.replace(/^[^.]+\./, ''))) {
      if (!/`/.test(match[1])) throw new InvalidInputError(`invalid order_by "${item}": expected "<identifier> [ASC|DESC]"`);
    }
    const { kind, key } = parseIdentifier(identifier);
    return { kind, key, ascending: (match[2] ?? 'ASC').toUpperCase() === 'ASC' };
  });
}
