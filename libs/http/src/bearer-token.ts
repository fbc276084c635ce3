import { sameSecret } from '@mlops/config';

interface GuardedRequest {
  method: string;
  path: string;
  headers: { authorization?: string };
}
interface GuardedResponse {
  status(code: number): GuardedResponse;
  set(header: string, value: string): GuardedResponse;
  json(body: unknown): unknown;
}

/** Paths a bearer token never guards: probes, the Prometheus scrape and the API's description. */
export const OPEN_PATHS: readonly RegExp[] = [/^\/health(z|\/.*)?$/, /^\/ready(z)?$/, /^\/live(z)?$/, /^\/metrics$/, /^\/openapi\.json$/];

/**
 * Express middleware answering 401 `{error_code: 'UNAUTHENTICATED'}` unless the request
 * carries `Authorization: Bearer <token>`; GET on `openPaths` passes without it.
 */
export function requireBearerToken(token: string, openPaths: readonly RegExp[] = OPEN_PATHS) {
  const expected = `Bearer ${token}`;
  return (request: GuardedRequest, response: GuardedResponse, next: () => void): void => {
    if ((request.method === 'GET' || request.method === 'HEAD') && openPaths.some((p) => p.test(request.path))) return next();
    const given = request.headers.authorization;
    if (typeof given === 'string' && sameSecret(given, expected)) return next();
    response
      .status(401)
      .set('WWW-Authenticate', 'Bearer')
      .json({
        error_code: 'UNAUTHENTICATED',
        message: given === undefined ? 'missing Authorization header (expected "Bearer <token>")' : 'invalid bearer token',
      });
  };
}
