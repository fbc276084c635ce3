import { describe, expect, it } from 'vitest';
import { isInfrastructureOutage, PermanentError, withRetries } from './delivery-policy';
import type { IncomingMessage } from './transport';

const message: IncomingMessage = { topic: 'data.validated', partition: 0, offset: '7', key: 'k', value: Buffer.from('{}'), headers: {} };
const fast = { maxAttempts: 3, initialBackoffMs: 1, maxBackoffMs: 2 };
const withCode = (code: string, message = 'failed') => Object.assign(new Error(message), { code });

describe('isInfrastructureOutage', () => {
  it.each([
    ['a refused connection', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:15432')],
    ['Postgres shutting down (57P01)', withCode('57P01', 'terminating connection due to administrator command')],
    ['a Postgres connection exception (class 08)', withCode('08006')],
    ['pg losing its socket', new Error('Connection terminated unexpectedly')],
    ['TypeORM wrapping the driver error', Object.assign(new Error('query failed'), { driverError: withCode('57P03') })],
    ['an error caused by an outage', new Error('could not apply', { cause: withCode('ECONNRESET') })],
    ['SQLite busy', withCode('SQLITE_BUSY')],
  ])('recognises %s', (_, error) => {
    expect(isInfrastructureOutage(error)).toBe(true);
  });

  it.each([
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'x')")],
    ['a constraint violation (23505)', withCode('23505', 'duplicate key value violates unique constraint')],
    ['a syntax error (42601)', withCode('42601')],
    ['a non-error', 'ECONNREFUSED'],
  ])('does not take %s for an outage', (_, error) => {
    expect(isInfrastructureOutage(error)).toBe(false);
  });
});

describe('withRetries', () => {
  it('dead-letters a message whose handler keeps failing after maxAttempts, with the reason', async () => {
    let calls = 0;
    const out = await withRetries('g', async () => {
      calls++;
      throw new Error('boom');
    }, fast)(message);
    expect(calls).toBe(3);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ topic: 'data.validated.dlq', headers: { 'dlq-error': 'boom', 'dlq-attempts': '3' } });
  });

  it('keeps retrying through an infrastructure outage longer than maxAttempts, then applies the message', async () => {
    let calls = 0;
    const out = await withRetries('g', async (_, publish) => {
      if (++calls <= 10) throw withCode('ECONNREFUSED');
      publish({ topic: 'effects', key: 'k', value: Buffer.from('done'), headers: {} });
    }, fast)(message);
    expect(calls).toBe(11);
    expect(out.map((m) => m.topic)).toEqual(['effects']);
  });

  it('still dead-letters a permanent error at once, even mid-outage', async () => {
    let calls = 0;
    const out = await withRetries('g', async () => {
      if (++calls === 1) throw withCode('57P01');
      throw new PermanentError('unknown feature view');
    }, fast)(message);
    expect(calls).toBe(2);
    expect(out[0]).toMatchObject({ topic: 'data.validated.dlq', headers: { 'dlq-error': 'unknown feature view' } });
  });
});
