import { describe, expect, it } from 'vitest';
import { requireBearerToken } from './bearer-token';

const TOKEN = 'correct-horse-battery-staple';

function call(method: string, path: string, authorization?: string) {
  const seen: { status?: number; body?: unknown; headers: Record<string, string>; passed: boolean } = { headers: {}, passed: false };
  const response = {
    status(code: number) {
      seen.status = code;
      return response;
    },
    set(header: string, value: string) {
      seen.headers[header] = value;
      return response;
    },
    json(body: unknown) {
      seen.body = body;
      return body;
    },
  };
  requireBearerToken(TOKEN)({ method, path, headers: { authorization } }, response, () => {
    seen.passed = true;
  });
  return seen;
}

describe('requireBearerToken', () => {
  it('passes a request with the configured bearer token', () => {
    expect(call('POST', '/api/2.0/mlflow/runs/create', `Bearer ${TOKEN}`).passed).toBe(true);
  });

  it('answers 401 UNAUTHENTICATED without a token, naming the header', () => {
    const seen = call('POST', '/api/2.0/mlflow/runs/create');
    expect(seen.passed).toBe(false);
    expect(seen.status).toBe(401);
    expect(seen.headers['WWW-Authenticate']).toBe('Bearer');
    expect(seen.body).toEqual({ error_code: 'UNAUTHENTICATED', message: expect.stringContaining('missing Authorization header') });
  });

  it.each([`Bearer ${TOKEN}x`, TOKEN, `Basic ${TOKEN}`, 'Bearer '])('rejects %j', (authorization) => {
    const seen = call('GET', '/api/models', authorization);
    expect(seen.passed).toBe(false);
    expect(seen.body).toEqual({ error_code: 'UNAUTHENTICATED', message: 'invalid bearer token' });
  });

  it('leaves probes and the Prometheus scrape open, for GET only', () => {
    for (const path of ['/health', '/healthz', '/health/ready', '/ready', '/metrics']) expect(call('GET', path).passed).toBe(true);
    expect(call('POST', '/metrics').passed).toBe(false);
    expect(call('GET', '/metrics/../api').passed).toBe(false);
  });
});
