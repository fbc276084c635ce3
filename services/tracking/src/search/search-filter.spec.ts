import { InvalidInputError } from '@mlops/errors';
import { apiErrorOf } from '@mlops/http';
import { parseFilter, parseOrderBy } from './search-filter';

describe('MLflow search filter', () => {
  it('parses comparisons joined by AND, with prefixes, quoting and back-quoted keys', () => {
    expect(
      parseFilter("metrics.acc > 0.5 and params.model = 'lr' AND tags.`my tag` != \"x\" AND attributes.status = 'FINISHED'"),
    ).toEqual([
      { kind: 'metric', key: 'acc', comparator: '>', value: 0.5 },
      { kind: 'param', key: 'model', comparator: '=', value: 'lr' },
      { kind: 'tag', key: 'my tag', comparator: '!=', value: 'x' },
      { kind: 'attribute', key: 'status', comparator: '=', value: 'FINISHED' },
    ]);
    expect(parseFilter("metric.loss <= -1e-3 AND tags.mlflow.runName LIKE 'r%' AND run_id IN ('a', 'b')")).toEqual([
      { kind: 'metric', key: 'loss', comparator: '<=', value: -0.001 },
      { kind: 'tag', key: 'mlflow.runName', comparator: 'LIKE', value: 'r%' },
      { kind: 'attribute', key: 'run_id', comparator: 'IN', value: ['a', 'b'] },
    ]);
    expect(parseFilter('attributes.start_time >= 1700000000000')).toEqual([
      { kind: 'attribute', key: 'start_time', comparator: '>=', value: 1_700_000_000_000 },
    ]);
    expect(parseFilter('  ')).toEqual([]);
  });

  it.each([
    'metrics.acc >',
    "metrics.acc > 'high'",
    "params.p > 'a'",
    'params.p = 1',
    'metrics.a > 1 OR metrics.b > 1',
    'metrics.a > 1 AND',
    'attributes.color = 1',
    'acc > 1',
    "params.p = 'unterminated",
    "metrics.acc IN ('1')",
  ])('rejects %j as INVALID_PARAMETER_VALUE', (filter) => {
    let error: unknown;
    try {
      parseFilter(filter);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(apiErrorOf(error as InvalidInputError).code).toBe('INVALID_PARAMETER_VALUE');
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
