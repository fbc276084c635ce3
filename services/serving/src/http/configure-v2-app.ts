import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Registry } from 'prom-client';
import { HttpTracingInterceptor, serveOpenApiDocument } from '@mlops/http';
import { createHttpMetrics, httpMetricsMiddleware, metricsHandler } from '@mlops/metrics';
import type { ServingLogger } from '../serving.logger';
import { requireV2BearerToken } from './v2-auth';
import { V2ErrorFilter } from './v2-errors';

/**
 * What configureHttpApp gives the other services, with the v2 protocol's error body
 * (`{"error": ...}`) for the filter and the token guard: request metrics and GET /metrics, the
 * bearer token, a SERVER span per request, GET /openapi.json (documenting the `{error}` body:
 * these routes never answer `{error_code, message}`).
 */
export function configureV2App(app: INestApplication, options: { registry: Registry; apiToken?: string; logger: ServingLogger }): void {
  // Metrics first, so refused requests are counted too.
  app.use(httpMetricsMiddleware(createHttpMetrics(options.registry)));
  if (options.apiToken) app.use(requireV2BearerToken(options.apiToken));
  (app as NestExpressApplication).getHttpAdapter().get('/metrics', metricsHandler(options.registry));
  serveOpenApiDocument(app, {
    service: 'serving',
    description: 'KServe v2 / Open Inference Protocol REST, with Triton extensions',
    error: { name: 'V2Error', schema: { type: 'object', required: ['error'], properties: { error: { type: 'string' } } } },
  });
  app.useGlobalInterceptors(new HttpTracingInterceptor());
  app.useGlobalFilters(new V2ErrorFilter(options.logger));
}
