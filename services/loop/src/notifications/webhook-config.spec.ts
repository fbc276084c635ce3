import { InvalidInputError } from '@mlops/errors';
import { parseDeliveriesQuery, parseWebhook } from './webhook-config';

function issuesOf(run: () => unknown) {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return { message: (error as InvalidInputError).message, issues: (error as InvalidInputError).issues ?? [] };
  }
  throw new Error('expected an InvalidInputError');
}

describe('webhook bodies', () => {
  const good = { url: 'https://hooks.example.com/mlops', secret: 'sixteen-chars-at-least', events: ['model.rolled_back', 'loop.failed', 'model.rolled_back'] };

  it('takes url, secret, events (deduplicated) and an optional model', () => {
    expect(parseWebhook(good)).toEqual({ ...good, events: ['model.rolled_back', 'loop.failed'] });
    expect(parseWebhook({ ...good, model: 'churn' }).model).toBe('churn');
  });

  it('names every bad field and what it expected', () => {
    const { message, issues } = issuesOf(() => parseWebhook({ url: 'ftp://x', secret: 'short', events: ['model.exploded'], model: 'no spaces' }));
    expect(issues.map((i) => i.field)).toEqual(['url', 'secret', 'events.0', 'model']);
    expect(issues[0]!.message).toMatch(/expected an http\(s\) URL/);
    expect(issues[1]!.message).toBe('expected at least 16 characters');
    expect(issues[2]!.message).toBe('expected one of gate.rejected, model.rolled_back, drift.detected, performance.degraded, loop.failed, loop.stalled');
    expect(message).toMatch(/^url: .*; secret: .*; events\.0: .*; model: /);
  });

  it('refuses no events, a missing secret and unknown fields', () => {
    expect(issuesOf(() => parseWebhook({ ...good, events: [] })).issues).toEqual([{ field: 'events', message: expect.stringMatching(/^expected at least one of gate\.rejected/) }]);
    expect(issuesOf(() => parseWebhook({ url: good.url, events: good.events })).issues.map((i) => i.field)).toEqual(['secret']);
    expect(issuesOf(() => parseWebhook({ ...good, retries: 3 })).issues).toEqual([{ field: '', message: expect.stringContaining('retries') }]);
    expect(issuesOf(() => parseWebhook(undefined)).issues).toHaveLength(1);
  });

  it('the delivery log query: status and limit', () => {
    expect(parseDeliveriesQuery({})).toEqual({ limit: 100 });
    expect(parseDeliveriesQuery({ status: 'failed', limit: '5' })).toEqual({ status: 'failed', limit: 5 });
    expect(issuesOf(() => parseDeliveriesQuery({ status: 'lost', limit: '0' })).issues.map((i) => i.field)).toEqual(['status', 'limit']);
  });
});
