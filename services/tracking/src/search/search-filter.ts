import { InvalidInputError } from '@mlops/errors';
import { tokenize, type Token } from './filter-tokens';

export type EntityKind = 'metric' | 'param' | 'tag' | 'attribute' | 'dataset';

export type Comparator = '=' | '!=' | '>' | '>=' | '<' | '<=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN' | 'IS NULL' | 'IS NOT NULL';

export interface Clause {
  kind: EntityKind;
  key: string;
  comparator: Comparator;
  /** null for IS NULL / IS NOT NULL. */
  value: number | string | string[] | null;
}

/** A parsed filter: one comparison, or comparisons joined by AND / OR (AND binds tighter). */
export type FilterExpr = Clause | { op: 'AND' | 'OR'; terms: FilterExpr[] };

export interface OrderBy {
  kind: EntityKind;
  key: string;
  ascending: boolean;
}

/** What a search may name: attributes (mapped to their column; `numeric` ones compare as numbers) and whether `datasets.*` exists. */
export interface SearchKeys {
  attributes: Record<string, { column: string; numeric: boolean }>;
  /** Attributes that IN / NOT IN may compare. */
  listAttributes: string[];
  datasets: boolean;
}

/** Attributes a run filter or order_by may name. */
export const ATTRIBUTES: SearchKeys['attributes'] = {
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

export const RUN_KEYS: SearchKeys = { attributes: ATTRIBUTES, listAttributes: ['run_id'], datasets: true };

/** MLflow's dataset keys in run filters (`datasets.name = 'train'`); context is the input's mlflow.data.context tag. */
const DATASET_KEYS = ['name', 'digest', 'context'];

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
  dataset: 'dataset',
  datasets: 'dataset',
};

/** `metrics.acc`, `params.lr`, `tags.mlflow.runName`, `attributes.status`, `datasets.name`, or a bare attribute name. */
export function parseIdentifier(text: string, keys: SearchKeys = RUN_KEYS): { kind: EntityKind; key: string } {
  const dot = text.indexOf('.');
  const prefix = dot > 0 ? PREFIXES[text.slice(0, dot)] : undefined;
  if (prefix && !(prefix === 'dataset' && !keys.datasets)) {
    const key = text.slice(dot + 1);
    if (!key) throw new InvalidInputError(`"${text}" names no key`);
    if (prefix === 'attribute' && !(key in keys.attributes)) {
      throw new InvalidInputError(`invalid attribute key "${key}"; expected one of ${Object.keys(keys.attributes).join(', ')}`);
    }
    if (prefix === 'dataset' && !DATASET_KEYS.includes(key)) {
      throw new InvalidInputError(`invalid dataset key "${key}"; expected one of ${DATASET_KEYS.join(', ')}`);
    }
    return { kind: prefix, key };
  }
  if (text in keys.attributes) return { kind: 'attribute', key: text };
  throw new InvalidInputError(
    `invalid identifier "${text}": expected metrics.<key>, params.<key>, tags.<key>${keys.datasets ? ', datasets.<key>' : ''} or attributes.<name>`,
  );
}

const NUMERIC_OPS: Comparator[] = ['=', '!=', '>', '>=', '<', '<='];
const STRING_OPS: Comparator[] = ['=', '!=', 'LIKE', 'ILIKE'];

/**
 * MLflow's search filter, with OR and parentheses on top of MLflow's AND-only grammar:
 *
 *   filter     := or EOF
 *   or         := and ( "OR" and )*
 *   and        := primary ( "AND" primary )*
 *   primary    := "(" or ")" | comparison
 *   comparison := ident op value
 *               | ident ("LIKE" | "ILIKE") string
 *               | ident ["NOT"] "IN" "(" string ( "," string )* ")"
 *               | ident "IS" ["NOT"] "NULL"
 *
 * e.g. `metrics.acc > 0.5 AND (params.model = 'lr' OR tags.stage IS NULL)`. Keywords are
 * case-insensitive. Returns undefined for an empty filter.
 */
export function parseFilter(filter: string | undefined, keys: SearchKeys = RUN_KEYS): FilterExpr | undefined {
  if (!filter || !filter.trim()) return undefined;
  return new FilterParser(filter, tokenize(filter), keys).parse();
}

const isKeyword = (token: Token | undefined, word: string) => token?.type === 'ident' && token.text.toUpperCase() === word;

class FilterParser {
  private i = 0;

  constructor(
    private readonly filter: string,
    private readonly tokens: Token[],
    private readonly keys: SearchKeys,
  ) {}

  parse(): FilterExpr {
    const expr = this.or();
    const rest = this.tokens[this.i];
    if (rest) throw this.error(`expected AND, OR or the end of the filter, got "${rest.text}"`, rest);
    return expr;
  }

  private error(what: string, at?: Token): InvalidInputError {
    const where = at ? ` at position ${at.at}` : ' at its end';
    return new InvalidInputError(`invalid filter "${this.filter}"${where}: ${what}`);
  }

  private next(): Token | undefined {
    return this.tokens[this.i++];
  }

  private or(): FilterExpr {
    const terms = [this.and()];
    while (isKeyword(this.tokens[this.i], 'OR')) {
      this.i++;
      terms.push(this.and());
    }
    return terms.length === 1 ? terms[0] : { op: 'OR', terms };
  }

  private and(): FilterExpr {
    const terms = [this.primary()];
    while (isKeyword(this.tokens[this.i], 'AND')) {
      this.i++;
      terms.push(this.primary());
    }
    return terms.length === 1 ? terms[0] : { op: 'AND', terms };
  }

  private primary(): FilterExpr {
    const token = this.tokens[this.i];
    if (token?.type === 'punct' && token.text === '(') {
      this.i++;
      const inner = this.or();
      const close = this.next();
      if (close?.text !== ')') throw this.error('expected ")"', close);
      return inner;
    }
    return this.comparison();
  }

  private comparison(): Clause {
    const ident = this.next();
    if (!ident) throw this.error('expected a comparison');
    if (ident.type !== 'ident') throw this.error(`expected an identifier, got "${ident.text}"`, ident);
    const { kind, key } = parseIdentifier(ident.text, this.keys);
    const op = this.next();
    if (!op) throw this.error(`expected a comparator after "${ident.text}"`);
    if (op.type === 'op') return this.compareValue(kind, key, ident.text, op.text as Comparator);
    const word = op.type === 'ident' ? op.text.toUpperCase() : '';
    if (word === 'LIKE' || word === 'ILIKE') return this.compareValue(kind, key, ident.text, word);
    if (word === 'IN') return this.compareList(kind, key, ident.text, 'IN');
    if (word === 'NOT' && isKeyword(this.tokens[this.i], 'IN')) {
      this.i++;
      return this.compareList(kind, key, ident.text, 'NOT IN');
    }
    if (word === 'IS') {
      const not = isKeyword(this.tokens[this.i], 'NOT');
      if (not) this.i++;
      const nul = this.next();
      if (!isKeyword(nul, 'NULL')) throw this.error(`expected NULL after IS${not ? ' NOT' : ''}`, nul);
      if (kind !== 'param' && kind !== 'tag') throw this.error(`IS NULL / IS NOT NULL is supported for params and tags, not "${ident.text}"`, op);
      return { kind, key, comparator: not ? 'IS NOT NULL' : 'IS NULL', value: null };
    }
    throw this.error(`expected a comparator after "${ident.text}", got "${op.text}"`, op);
  }

  private compareValue(kind: EntityKind, key: string, name: string, comparator: Comparator): Clause {
    const raw = this.next();
    if (!raw) throw this.error(`expected a value after "${name} ${comparator}"`);
    const numeric = kind === 'metric' || (kind === 'attribute' && this.keys.attributes[key].numeric);
    if (numeric) {
      if (!NUMERIC_OPS.includes(comparator)) throw this.error(`"${comparator}" cannot compare the numeric "${name}"`, raw);
      if (raw.type !== 'number') throw this.error(`expected a number to compare "${name}" with, got "${raw.text}"`, raw);
      if (!Number.isFinite(Number(raw.text))) throw this.error(`the number ${raw.text} is out of range`, raw);
      return { kind, key, comparator, value: Number(raw.text) };
    }
    if (!STRING_OPS.includes(comparator)) throw this.error(`"${comparator}" cannot compare "${name}"; use one of ${STRING_OPS.join(', ')}`, raw);
    if (raw.type !== 'string') throw this.error(`expected a quoted string to compare "${name}" with, got ${raw.text}`, raw);
    return { kind, key, comparator, value: raw.text };
  }

  private compareList(kind: EntityKind, key: string, name: string, comparator: 'IN' | 'NOT IN'): Clause {
    const listable = (kind === 'attribute' && this.keys.listAttributes.includes(key)) || kind === 'param' || kind === 'tag' || kind === 'dataset';
    if (!listable) {
      const attributes = this.keys.listAttributes.map((a) => `attributes.${a}`).join(', ');
      throw this.error(`${comparator} is supported for ${attributes ? `${attributes}, ` : ''}params, tags and datasets, not "${name}"`);
    }
    const open = this.next();
    if (open?.text !== '(') throw this.error(`expected "(" after ${comparator}`, open);
    const list: string[] = [];
    for (;;) {
      const item = this.next();
      if (!item || item.type !== 'string') throw this.error(`expected a quoted string in the ${comparator} list`, item);
      list.push(item.text);
      const sep = this.next();
      if (sep?.text === ')') break;
      if (sep?.text !== ',') throw this.error(`expected "," or ")" in the ${comparator} list`, sep);
    }
    return { kind, key, comparator, value: list };
  }
}

/** `metrics.acc DESC`, `attributes.start_time`, `params.lr ASC`. */
export function parseOrderBy(items: string[] | undefined, keys: SearchKeys = RUN_KEYS): OrderBy[] {
  return (items ?? []).map((item) => {
    const match = /^\s*(.+?)(?:\s+(ASC|DESC))?\s*$/i.exec(item);
    if (!match) throw new InvalidInputError(`invalid order_by "${item}"`);
    const identifier = match[1].replace(/`([^`]*)`/g, '$1');
    if (/\s/.test(identifier.replace(/^[^.]+\./, ''))) {
      if (!/`/.test(match[1])) throw new InvalidInputError(`invalid order_by "${item}": expected "<identifier> [ASC|DESC]"`);
    }
    const { kind, key } = parseIdentifier(identifier, keys);
    if (kind === 'dataset') throw new InvalidInputError(`invalid order_by "${item}": runs cannot be ordered by a dataset key`);
    return { kind, key, ascending: (match[2] ?? 'ASC').toUpperCase() === 'ASC' };
  });
}
