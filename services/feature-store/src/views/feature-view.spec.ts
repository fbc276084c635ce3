import { aggregate, extractViewEvent } from './feature-row';
import { findExampleViewsFile, InvalidFeatureViewsError, loadFeatureViews, parseDuration, parseFeatureViews, viewColumns } from './feature-view';

const yaml = `
featureViews:
  - name: user_clicks
    source: clicks
    entityKey: user
    timestampField: ts
    features:
      - { name: last_amount, field: amount, type: number }
    aggregations:
      - { name: n_1h, function: count, window: 1h }
      - { name: amount_sum_1h, function: sum, field: amount, window: 1h }
      - { name: amount_mean_24h, function: mean, field: amount, window: 24h }
`;

const H = 3_600_000;

describe('feature views (YAML)', () => {
  it('parses durations', () => {
    expect([parseDuration('30s'), parseDuration('15m'), parseDuration('1h'), parseDuration('7d')]).toEqual([30_000, 900_000, H, 7 * 24 * H]);
    expect([parseDuration('1w'), parseDuration('0h'), parseDuration('h')]).toEqual([undefined, undefined, undefined]);
  });

  it('loads the bundled example', () => {
    const views = loadFeatureViews(findExampleViewsFile());
    expect(views.map((v) => v.name)).toEqual(['user_clicks']);
    expect(viewColumns(views[0]).map((c) => c.name)).toEqual(['user', 'event_timestamp', 'last_amount', 'last_page', 'clicks_1h', 'amount_sum_24h', 'amount_mean_7d']);
  });

  it('names each offending field of a bad definition', () => {
    const bad = `
featureViews:
  - name: v
    source: s
    entityKey: user
    timestampField: ts
    features: [{ name: a, type: float }]
    aggregations:
      - { name: m, function: mean, window: 1h }
      - { name: c, function: count, window: 1w }
`;
    let error: unknown;
    try {
      parseFeatureViews(bad, 'views.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidFeatureViewsError);
    const fields = (error as InvalidFeatureViewsError).issues.map((i) => i.field).sort();
    expect(fields).toEqual(['featureViews.0.aggregations.0.field', 'featureViews.0.aggregations.1.window', 'featureViews.0.features.0.type']);
    expect(() => parseFeatureViews('featureViews: [', 'x.yaml')).toThrow(/not valid YAML/);
  });

  it('extracts entity key, event time and features; says which field is missing', () => {
    const [view] = parseFeatureViews(yaml);
    const ok = extractViewEvent(view, { user: 7, ts: '2026-01-01T00:00:00Z', amount: 3 });
    expect(ok).toEqual({ ok: true, event: { entityKey: '7', eventTimeMs: Date.parse('2026-01-01T00:00:00Z'), features: { last_amount: 3 }, inputs: { amount: 3 } } });
    expect(extractViewEvent(view, { ts: 0, amount: 1 })).toMatchObject({ ok: false, field: 'user' });
    expect(extractViewEvent(view, { user: 'u', ts: 'yesterday' })).toMatchObject({ ok: false, field: 'ts' });
  });

  it('rejects a present value of the wrong type, naming the field and what was expected; null stays null', () => {
    const [view] = parseFeatureViews(yaml);
    const ts = '2026-01-01T00:00:00Z';
    expect(extractViewEvent(view, { user: 'u', ts, amount: 'ten' })).toEqual({
      ok: false,
      field: 'amount',
      reason: 'field "amount" of feature last_amount is string, expected a number or null',
    });
    expect(extractViewEvent(view, { user: 'u', ts, amount: [1] })).toMatchObject({ ok: false, field: 'amount', reason: expect.stringContaining('is array') });
    expect(extractViewEvent(view, { user: 'u', ts, amount: null })).toMatchObject({ ok: true, event: { features: { last_amount: null }, inputs: { amount: null } } });
    const [countOnly] = parseFeatureViews(`
featureViews:
  - name: c
    source: s
    entityKey: user
    timestampField: ts
    aggregations: [{ name: total, function: sum, field: amount, window: 1h }]
`);
    expect(extractViewEvent(countOnly, { user: 'u', ts, amount: true })).toEqual({
      ok: false,
      field: 'amount',
      reason: 'field "amount" of aggregation total is boolean, expected a finite number or null',
    });
  });

  it('computes count/sum/mean over (t - window, t], skipping null inputs', () => {
    const [view] = parseFeatureViews(yaml);
    const t = 100 * H;
    const events = [
      { eventTimeMs: t - 25 * H, inputs: { amount: 1000 } }, // outside every window
      { eventTimeMs: t - 24 * H, inputs: { amount: 500 } }, // exactly 24h old: outside (window is half-open)
      { eventTimeMs: t - 2 * H, inputs: { amount: 10 } }, // in 24h only
      { eventTimeMs: t - H, inputs: { amount: 7 } }, // exactly 1h old: outside 1h
      { eventTimeMs: t - H + 1, inputs: { amount: 4 } },
      { eventTimeMs: t - 1, inputs: { amount: null } },
      { eventTimeMs: t, inputs: { amount: 2 } },
      { eventTimeMs: t + 1, inputs: { amount: 99 } }, // later than t: never counted
    ];
    expect(aggregate(view, events, t)).toEqual({ n_1h: 3, amount_sum_1h: 6, amount_mean_24h: (10 + 7 + 4 + 2) / 4 });
    expect(aggregate(view, [], t)).toEqual({ n_1h: 0, amount_sum_1h: 0, amount_mean_24h: null });
  });
});
