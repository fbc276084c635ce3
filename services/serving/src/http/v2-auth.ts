import type { ServerResponse } from 'node:http';
import { sameSecret } from '@mlops/config';
import { sendV2Error } from './v2-errors';

interface Request {
  method: string;
  path: string;
  headers: { authorization?: string };
}

/** Probes, the scrape and the API description stay open when API_TOKEN is set (as ServerLive/ServerReady do on gRPC). */
const OPEN_PATHS = new Set(['/v2/health/live', '/v2/health/ready', '/health/live', '/health/ready', '/metrics', '/openapi.json']);

/**
 * Express middleware: 401 `{"error": ...}` (the v2 protocol's error body) unless the request
 * carries `Authorization: Bearer <token>`; GET on the probes and /metrics passes without it.
 */
export function requireV2BearerToken(token: string) {
  const expected = `Bearer ${token}`;
  return (request: Request, response: ServerResponse, next: () => void): void => {
    if ((request.method === 'GET' || request.method === 'HEAD') && OPEN_PATHS.has(request.path)) return next();
    const given = request.headers.authorization;
    if (typeof given === 'string' && sameSecret(given, expected)) return next();
    sendV2Error(response, 401, given === undefined ? 'missing Authorization header (expected "Bearer <token>")' : 'invalid bearer token', { 'WWW-Authenticate': 'Bearer' });
  };
}
