import { sameSecret } from '@mlops/config';

interface Request {
  method: string;
  path: string;
  headers: { authorization?: string };
}
interface Response {
  status(code: number): Response;
  set(header: string, value: string): Response;
  json(body: unknown): unknown;
}

/** Probes and the scrape stay open when API_TOKEN is set (as ServerLive/ServerReady do on gRPC). */
const OPEN_PATHS = new Set(['/v2/health/live', '/v2/health/ready', '/health/live', '/metrics']);

/**
 * Express middleware: 401 `{"error": ...}` (the v2 protocol's error body) unless the request
 * carries `Authorization: Bearer <token>`; GET on the probes and /metrics passes without it.
 */
export function requireV2BearerToken(token: string) {
  const expected = `Bearer ${token}`;
  return (request: Request, response: Response, next: () => void): void => {
    if ((request.method === 'GET' || request.method === 'HEAD') && OPEN_PATHS.has(request.path)) return next();
    const given = request.headers.authorization;
    if (typeof given === 'string' && sameSecret(given, expected)) return next();
    response
      .status(401)
      .set('WWW-Authenticate', 'Bearer')
      .json({ error: given === undefined ? 'missing Authorization header (expected "Bearer <token>")' : 'invalid bearer token' });
  };
}
