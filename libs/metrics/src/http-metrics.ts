import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Histogram, type Registry } from 'prom-client';

/** Request latency buckets in seconds: 1 ms to 10 s. */
export const HTTP_LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The route label of requests no route matched (404s), so unknown paths cannot grow the label set. */
export const UNMATCHED_ROUTE = 'unmatched';

export interface HttpMetrics {
  requests: Counter<'method' | 'route' | 'status'>;
  duration: Histogram<'method' | 'route' | 'status'>;
}

export function createHttpMetrics(registry: Registry): HttpMetrics {
  return {
    requests: new Counter({
      name: 'mlops_http_requests_total',
      help: 'HTTP requests handled, by method, route template and status code',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'mlops_http_request_duration_seconds',
      help: 'HTTP request latency in seconds, from arrival to the last byte of the response',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: HTTP_LATENCY_BUCKETS,
      registers: [registry],
    }),
  };
}

/** What Express (and so Nest's Express adapter) leaves on a routed request. */
interface RoutedRequest extends IncomingMessage {
  baseUrl?: string;
  route?: { path?: unknown };
}

/**
 * The route template (`/models/:model/drift`), never the raw path, so ids in URLs do not
 * become label values. Express sets `req.route` while routing, so this is read on finish.
 */
export function routeOf(req: RoutedRequest): string {
  const path = req.route?.path;
  if (typeof path !== 'string') return UNMATCHED_ROUTE;
  return `${req.baseUrl ?? ''}${path}` || '/';
}

/**
 * Express-style middleware (`app.use(...)` on an Express app or a Nest app with the Express
 * adapter) that counts and times every request. Paths in `exclude` (the scrape itself by
 * default) are not recorded.
 */
export function httpMetricsMiddleware(metrics: HttpMetrics, options: { exclude?: string[] } = {}) {
  const exclude = new Set(options.exclude ?? ['/metrics']);
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (exclude.has(path)) return next();
    const stop = metrics.duration.startTimer();
    res.once('finish', () => {
      const labels = { method: req.method ?? 'UNKNOWN', route: routeOf(req as RoutedRequest), status: String(res.statusCode) };
      metrics.requests.inc(labels);
      stop(labels);
    });
    next();
  };
}
