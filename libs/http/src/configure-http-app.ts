import type { ExceptionFilter, INestApplication } from '@nestjs/common';
import { requireBearerToken } from './bearer-token';
import { HttpTracingInterceptor } from './http-tracing.interceptor';

export interface HttpAppOptions {
  /** The service's error filter (its error body shape). */
  filter: ExceptionFilter;
  /** When set, every route but probes and /metrics needs `Authorization: Bearer <token>`. */
  apiToken?: string;
}

/**
 * What every service's HTTP API shares: the bearer-token guard (before body parsing, so an
 * unauthenticated upload is refused unread), a SERVER span per request, and the error filter.
 */
export function configureHttpApp(app: INestApplication, options: HttpAppOptions): void {
  if (options.apiToken) app.use(requireBearerToken(options.apiToken));
  app.useGlobalInterceptors(new HttpTracingInterceptor());
  app.useGlobalFilters(options.filter);
}
