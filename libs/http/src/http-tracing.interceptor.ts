import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { lastValueFrom, type Observable, from } from 'rxjs';
import { withServerSpan } from '@mlops/telemetry';

interface TracedRequest {
  method: string;
  route?: { path?: string };
  path: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * One SERVER span per HTTP request, named `METHOD /route/:param`, continuing the caller's
 * `traceparent`; events the handler publishes become its children.
 */
@Injectable()
export class HttpTracingInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<TracedRequest>();
    const route = request.route?.path ?? request.path;
    const carrier: Record<string, string> = {};
    for (const key of ['traceparent', 'tracestate']) {
      const value = request.headers[key];
      if (typeof value === 'string') carrier[key] = value;
    }
    return from(
      withServerSpan(`${request.method} ${route}`, carrier, { 'http.request.method': request.method, 'http.route': route }, () =>
        lastValueFrom(next.handle(), { defaultValue: undefined }),
      ),
    );
  }
}
