import { createHmac } from 'node:crypto';
import { DELIVERY_ID_HEADER, SIGNATURE_HEADER, signedHeaders, signature, TIMESTAMP_HEADER, verifySignature } from './signing';

describe('webhook signatures (MLflow 3 scheme: v1,base64(HMAC-SHA256(secret, "<delivery id>.<timestamp>.<body>")))', () => {
  const secret = 'a-secret-of-16-chars+';
  const body = JSON.stringify({ id: 'e1', event: 'model.rolled_back', model: 'churn', occurredAt: '2026-01-01T00:00:00.000Z', data: { version: 3 } });

  it('matches an HMAC computed independently with the known key and message', () => {
    const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update(Buffer.from(`d-1.1767225600.${body}`, 'utf8')).digest('base64');
    expect(signature(secret, 'd-1', '1767225600', body)).toBe(`v1,${expected}`);
    // A fixed vector, so a change of the scheme cannot go unnoticed.
    expect(signature('key', 'id', '0', 'body')).toBe(`v1,${createHmac('sha256', 'key').update('id.0.body').digest('base64')}`);
  });

  it('the headers of an attempt carry the delivery id, unix seconds and the signature over both', () => {
    const headers = signedHeaders(secret, 'd-2', Date.UTC(2026, 0, 1, 0, 0, 0, 999), body);
    expect(headers).toEqual({
      'content-type': 'application/json',
      [DELIVERY_ID_HEADER]: 'd-2',
      [TIMESTAMP_HEADER]: '1767225600',
      [SIGNATURE_HEADER]: signature(secret, 'd-2', '1767225600', body),
    });
  });

  it('verifies only the exact body, delivery id, timestamp and secret', () => {
    const header = signature(secret, 'd-3', '100', body);
    expect(verifySignature(secret, 'd-3', '100', body, header)).toBe(true);
    expect(verifySignature(secret, 'd-3', '100', body.replace('"version":3', '"version":4'), header)).toBe(false);
    expect(verifySignature(secret, 'd-4', '100', body, header)).toBe(false);
    expect(verifySignature(secret, 'd-3', '101', body, header)).toBe(false);
    expect(verifySignature(`${secret}x`, 'd-3', '100', body, header)).toBe(false);
    expect(verifySignature(secret, 'd-3', '100', body, 'v1,short')).toBe(false);
  });
});
