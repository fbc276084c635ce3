import { InvalidInputError } from '@mlops/errors';
import { matches, parseFilter } from './search-filter';

const issuesOf = (filter: string) => {
  try {
    parseFilter(filter, ['name', 'run_id']);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return { message: (error as InvalidInputError).message, fields: (error as InvalidInputError).issues?.map((i) => i.field) };
  }
  throw new Error(`"${filter}" was accepted`);
};

describe("the registry's search filter grammar", () => {
  it('parses attributes, tags (dotted keys in backticks), quoted values, IN lists, joined by AND', () => {
    expect(parseFilter("name LIKE 'fra%' AND tag.`mlflow.prompt.is_prompt` != 'true' AND tags.team = \"fraud\" AND run_id IN ('a', 'b')", ['name', 'run_id'])).toEqual([
      { kind: 'attribute', key: 'name', op: 'LIKE', values: ['fra%'] },
      { kind: 'tag', key: 'mlflow.prompt.is_prompt', op: '!=', values: ['true'] },
      { kind: 'tag', key: 'team', op: '=', values: ['fraud'] },
      { kind: 'attribute', key: 'run_id', op: 'IN', values: ['a', 'b'] },
    ]);
    expect(parseFilter("attributes.name ilike 'X' and run_id not in ('c')", ['name', 'run_id'])).toEqual([
      { kind: 'attribute', key: 'name', op: 'ILIKE', values: ['X'] },
      { kind: 'attribute', key: 'run_id', op: 'NOT IN', values: ['c'] },
    ]);
    expect(parseFilter("name = 'it\\'s'", ['name'])).toEqual([{ kind: 'attribute', key: 'name', op: '=', values: ["it's"] }]);
    expect(parseFilter('   ', ['name'])).toEqual([]);
  });

  it.each([
    ["owner = 'x'", 'unknown key "owner"'],
    ["name = 'a' OR name = 'b'", 'OR is not supported'],
    ['name = ', 'expected a value at the end'],
    ["name 'a'", 'expected an operator'],
    ["name IN 'a'", 'expected ( after IN'],
    ["name = 'open", 'unexpected character'],
    ['tag. = 1', 'expected a tag key'],
  ])('refuses %j naming the filter field and the problem (%s)', (filter, problem) => {
    const { message, fields } = issuesOf(filter);
    expect(fields).toEqual(['filter']);
    expect(message).toContain(problem);
  });

  it('a missing value (no such tag) matches only != and NOT IN; LIKE is case-sensitive, ILIKE not', () => {
    expect(matches(null, { op: '!=', values: ['true'] })).toBe(true);
    expect(matches(null, { op: 'NOT IN', values: ['true'] })).toBe(true);
    for (const op of ['=', 'LIKE', 'ILIKE', 'IN'] as const) expect(matches(null, { op, values: ['true'] })).toBe(false);
    expect(matches('Fraud', { op: 'LIKE', values: ['fra%'] })).toBe(false);
    expect(matches('Fraud', { op: 'ILIKE', values: ['fra%'] })).toBe(true);
    expect(matches('fraud', { op: 'LIKE', values: ['fr_ud'] })).toBe(true);
    expect(matches('f.aud', { op: 'LIKE', values: ['f.a%'] })).toBe(true);
    expect(matches('fxaud', { op: 'LIKE', values: ['f.a%'] })).toBe(false);
  });
});
