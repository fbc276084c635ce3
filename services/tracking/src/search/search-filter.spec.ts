import { InvalidInputError } from '@mlops/errors';
import { apiErrorOf } from '@mlops/http';
import { parseFilter, parseOrderBy } from './search-filter';

const and = (...terms: unknown[]) => ({ op: 'AND', terms });

describe('MLflow search filter', () => {
  it('parses comparisons joined by AND, with prefixes, quoting and back-quoted keys', () => {
    expect(
      parseFilter("metrics.acc > 0.5 and params.model = 'lr' AND tags.`my tag` != \"x\" AND attributes.status = 'FINISHED'"),
    ).toEqual(and(
      { kind: 'metric', key: 'acc', comparator: '>', value: 0.5 },
      { kind: 'param', key: 'model', comparator: '=', value: 'lr' },
      { kind: 'tag', key: 'my tag', comparator: '!=', value: 'x' },
      { kind: 'attribute', key: 'status', comparator: '=', value: 'FINISHED' },
    ));
    expect(parseFilter("metric.loss <= -1e-3 AND tags.mlflow.runName LIKE 'r%' AND run_id IN ('a', 'b')")).toEqual(and(
      { kind: 'metric', key: 'loss', comparator: '<=', value: -0.001 },
      { kind: 'tag', key: 'mlflow.runName', comparator: 'LIKE', value: 'r%' },
      { kind: 'attribute', key: 'run_id', comparator: 'IN', value: ['a', 'b'] },
    ));
    expect(parseFilter('attributes.start_time >= 1700000000000')).toEqual({ kind: 'attribute', key: 'start_time', comparator: '>=', value: 1_700_000_000_000 });
    expect(parseFilter('  ')).toBeUndefined();
  });

  it('parses OR (AND binding tighter), parentheses, IS [NOT] NULL and dataset keys', () => {
    const acc = { kind: 'metric', key: 'acc', comparator: '>', value: 0.9 };
    const lr = { kind: 'param', key: 'model', comparator: '=', value: 'lr' };
    const stage = { kind: 'tag', key: 'stage', comparator: 'IS NULL', value: null };
    expect(parseFilter("metrics.acc > 0.9 OR params.model = 'lr' AND tags.stage IS NULL")).toEqual({ op: 'OR', terms: [acc, and(lr, stage)] });
    expect(parseFilter("(metrics.acc > 0.9 or params.model = 'lr') and tags.stage is null")).toEqual(and({ op: 'OR', terms: [acc, lr] }, stage));
    expect(parseFilter("params.p IS NOT NULL AND datasets.name IN ('train', 'eval') AND datasets.context = 'training'")).toEqual(
      and(
        { kind: 'param', key: 'p', comparator: 'IS NOT NULL', value: null },
        { kind: 'dataset', key: 'name', comparator: 'IN', value: ['train', 'eval'] },
        { kind: 'dataset', key: 'context', comparator: '=', value: 'training' },
      ),
    );
  });

  it.each([
    'metrics.acc >',
    "metrics.acc > 'high'",
    "params.p > 'a'",
    'params.p = 1',
    'metrics.a > 1 OR',
    '(metrics.a > 1 OR metrics.b > 1',
    'metrics.a > 1 metrics.b > 1',
    'metrics.a IS NULL',
    "datasets.color = 'x'",
    'attributes.start_time > 1e400',
    'metrics.a > 1 AND',
    'attributes.color = 1',
    'acc > 1',
    "params.p = 'unterminated",
    "metrics.acc IN ('1')",
  ])('rejects %j as INVALID_PARAMETER_VALUE, saying where', (filter) => {
    let error: unknown;
    try {
      parseFilter(filter);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(apiErrorOf(error as InvalidInputError).code).toBe('INVALID_PARAMETER_VALUE');
    expect((error as Error).message).toMatch(/filter|identifier|key/);
  });

  it('parses order_by with an optional direction', () => {
    expect(parseOrderBy(['metrics.acc DESC', 'attributes.start_time', 'params.`learning rate` asc', 'start_time DESC'])).toEqual([
      { kind: 'metric', key: 'acc', ascending: false },
      { kind: 'attribute', key: 'start_time', ascending: true },
      { kind: 'param', key: 'learning rate', ascending: true },
      { kind: 'attribute', key: 'start_time', ascending: false },
    ]);
    expect(() => parseOrderBy(['metrics.acc SIDEWAYS'])).toThrow(InvalidInputError);
  });
});
