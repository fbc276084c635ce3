import { InvalidInputError } from '@mlops/errors';

/**
 * MLflow's registry search filter: `<key> <op> <value>` clauses joined by AND, where a key is
 * an attribute (`name`, `run_id`, ...) or a tag (`tag.<key>`, `tags.<key>`, the key in
 * backticks when it has dots: ``tag.`mlflow.prompt.is_prompt` ``), an op is `=`, `!=`,
 * `LIKE`, `ILIKE`, `IN` or `NOT IN`, and a value a quoted string, a number or a list `( ... )`.
 */
export interface FilterClause {
  /** `attribute` (the key is an attribute name) or `tag` (the key is a tag key). */
  kind: 'attribute' | 'tag';
  key: string;
  op: '=' | '!=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';
  values: string[];
}

type Token = { type: 'word' | 'quoted' | 'backtick' | 'number' | 'op' | 'punct'; text: string; at: number };

const TOKEN = /\s*(?:(`(?:[^`])+`)|('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d+)?)(?![\w.])|(!=|<>|=)|([A-Za-z_][\w]*)|([.(),]))/y;

function tokenize(filter: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < filter.length) {
    if (!filter.slice(TOKEN.lastIndex).trim()) break;
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(filter);
    if (!m) throw invalid(filter, `unexpected character ${JSON.stringify(filter.slice(at).trimStart()[0])} at position ${at + 1}`);
    if (m[1]) tokens.push({ type: 'backtick', text: m[1].slice(1, -1), at });
    else if (m[2]) tokens.push({ type: 'quoted', text: m[2].slice(1, -1).replace(/\\(.)/g, '$1'), at });
    else if (m[3]) tokens.push({ type: 'number', text: m[3], at });
    else if (m[4]) tokens.push({ type: 'op', text: m[4] === '<>' ? '!=' : m[4], at });
    else if (m[5]) tokens.push({ type: 'word', text: m[5], at });
    else tokens.push({ type: 'punct', text: m[6], at });
  }
  return tokens;
}

function invalid(filter: string, problem: string, attributes?: string[]): InvalidInputError {
  const expected = attributes
    ? `; expected <key> <op> <value> clauses joined by AND, a key being ${attributes.join(', ')} or tag.<key> (backticks for keys with dots), an op =, !=, LIKE, ILIKE, IN or NOT IN`
    : '';
  return InvalidInputError.of([{ field: 'filter', message: `unsupported filter "${filter}": ${problem}${expected}` }]);
}

/** Parses a filter for the given attributes; tags are always allowed. Empty filter = no clauses. */
export function parseFilter(filter: string | undefined, attributes: string[]): FilterClause[] {
  if (!filter || !filter.trim()) return [];
  const tokens = tokenize(filter);
  let i = 0;
  const fail = (problem: string): never => {
    throw invalid(filter, problem, attributes);
  };
  const next = (what: string): Token => tokens[i++] ?? fail(`expected ${what} at the end`);
  const word = (t: Token | undefined, text: string) => t?.type === 'word' && t.text.toUpperCase() === text;

  const clauses: FilterClause[] = [];
  for (;;) {
    const first = next('a key');
    let clause: Pick<FilterClause, 'kind' | 'key'>;
    if (first.type === 'word' && /^(tag|tags)$/i.test(first.text) && tokens[i]?.text === '.') {
      i++;
      const key = next('a tag key');
      if (key.type !== 'word' && key.type !== 'backtick') fail(`expected a tag key after "${first.text}."`);
      clause = { kind: 'tag', key: key.text };
    } else {
      let name = first.type === 'word' || first.type === 'backtick' ? first.text : fail(`expected a key, found "${first.text}"`);
      if (/^(attribute|attributes)$/i.test(name) && tokens[i]?.text === '.') {
        i++;
        name = next('an attribute').text;
      }
      if (!attributes.includes(name)) fail(`unknown key "${name}"`);
      clause = { kind: 'attribute', key: name };
    }
    const opToken = next('an operator');
    let op: FilterClause['op'];
    if (opToken.type === 'op') op = opToken.text as '=' | '!=';
    else if (word(opToken, 'LIKE') || word(opToken, 'ILIKE') || word(opToken, 'IN')) op = opToken.text.toUpperCase() as 'LIKE' | 'ILIKE' | 'IN';
    else if (word(opToken, 'NOT') && word(tokens[i], 'IN')) {
      i++;
      op = 'NOT IN';
    } else op = fail(`expected an operator after "${clause.key}", found "${opToken.text}"`);
    const values: string[] = [];
    const value = (): string => {
      const t = next('a value');
      return t.type === 'quoted' || t.type === 'number' ? t.text : fail(`expected a quoted value, found "${t.text}"`);
    };
    if (op === 'IN' || op === 'NOT IN') {
      if (next('(').text !== '(') fail(`expected ( after ${op}`);
      for (;;) {
        values.push(value());
        const t = next(') or ,');
        if (t.text === ')') break;
        if (t.text !== ',') fail(`expected , or ) in the ${op} list, found "${t.text}"`);
      }
    } else values.push(value());
    clauses.push({ ...clause, op, values });
    if (i >= tokens.length) return clauses;
    if (!word(tokens[i], 'AND')) fail(`expected AND, found "${tokens[i].text}" (OR is not supported)`);
    i++;
  }
}

function like(actual: string, pattern: string, flags: string): boolean {
  const regex = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.');
  return new RegExp(`^${regex}$`, flags).test(actual);
}

/**
 * Whether a value satisfies a clause. A missing value (`null`: no such tag) matches only `!=`
 * and `NOT IN`, so the 3.x client's ``tag.`mlflow.prompt.is_prompt` != 'true'`` keeps models without that tag.
 */
export function matches(actual: string | null, clause: Pick<FilterClause, 'op' | 'values'>): boolean {
  const [value] = clause.values;
  switch (clause.op) {
    case '=':
      return actual === value;
    case '!=':
      return actual !== value;
    case 'IN':
      return actual !== null && clause.values.includes(actual);
    case 'NOT IN':
      return actual === null || !clause.values.includes(actual);
    case 'LIKE':
      return actual !== null && like(actual, value, '');
    case 'ILIKE':
      return actual !== null && like(actual, value, 'i');
  }
}
