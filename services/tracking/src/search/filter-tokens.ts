import { InvalidInputError } from '@mlops/errors';

/** A lexical token of an MLflow search filter; `at` is its offset in the filter text. */
export type Token =
  | { type: 'ident'; text: string; at: number }
  | { type: 'string'; text: string; at: number }
  | { type: 'number'; text: string; at: number }
  | { type: 'op'; text: string; at: number }
  | { type: 'punct'; text: '(' | ')' | ','; at: number };

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/;

/**
 * Splits a filter into identifiers (with back-quoted parts: metrics.`my metric`), quoted
 * strings, numbers, comparison operators and `(`, `)`, `,`. Keywords (AND, OR, IN, ...) are
 * identifiers here; the parser tells them apart.
 */
export function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    const at = i;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '"') {
      const end = input.indexOf(c, i + 1);
      if (end < 0) throw new InvalidInputError(`unterminated string in filter at position ${i}: ${input}`);
      tokens.push({ type: 'string', text: input.slice(i + 1, end), at });
      i = end + 1;
    } else if (/[<>!=]/.test(c)) {
      const two = input.slice(i, i + 2);
      const op = ['>=', '<=', '!=', '=='].includes(two) ? two : c;
      if (op === '!') throw new InvalidInputError(`unexpected "!" in filter at position ${i}`);
      tokens.push({ type: 'op', text: op === '==' ? '=' : op, at });
      i += op.length;
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ type: 'punct', text: c, at });
      i++;
    } else if (/[-+\d.]/.test(c) && NUMBER.test(input.slice(i))) {
      const text = NUMBER.exec(input.slice(i))![0];
      tokens.push({ type: 'number', text, at });
      i += text.length;
    } else {
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
      tokens.push({ type: 'ident', text, at });
    }
  }
  return tokens;
}
