import type { ExceptionFilter, INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Registry } from 'prom-client';
import { createHttpMetrics, createMetricsRegistry, httpMetricsMiddleware, metricsHandler } from '@mlops/metrics';
import { requireBearerToken } from './bearer-token';
import { HttpTracingInterceptor } from './http-tracing.interceptor';
import { serveOpenApiDocument } from './openapi';

export interface HttpAppOptions {
  /** Names the `service` label of the metrics. */
  service: string;
  /** The service's error filter (its error body shape). */
  filter: ExceptionFilter;
  /** When set, every route but probes and /metrics needs `Authorization: Bearer <token>`. */
  apiToken?: string;
  /** The service's own metrics registry, when it has series of its own; else one is made. */
  metrics?: Registry;
}

/**
 * What every service's HTTP API shares, applied before its routes and body parsers: the
 * bearer-token guard (so an unauthenticated upload is refused unread), request count and
 * latency metrics with GET /metrics, the OpenAPI document at GET /openapi.json, a SERVER span per request, and the error filter.
 * Returns the metrics registry.
 */
export function configureHttpApp(app: INestApplication, options: HttpAppOptions): Registry {
  const registry = options.metrics ?? createMetricsRegistry({ service: options.service });
  // Metrics first, so refused requests are counted too.
  app.use(httpMetricsMiddleware(createHttpMetrics(registry)));
  if (options.apiToken) app.use(requireBearerToken(options.apiToken));
  (app as NestExpressApplication).getHttpAdapter().get('/metrics', metricsHandler(registry));
  serveOpenApiDocument(app, { service: options.service });
  app.useGlobalInterceptors(new HttpTracingInterceptor());
  app.useGlobalFilters(options.filter);
  return registry;
}
