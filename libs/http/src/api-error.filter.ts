import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { DomainError } from '@mlops/errors';
import { ApiError, apiErrorOf, type FieldIssue } from './api-error';

/**
 * The message for body-parser's refusal of a body over its `limit` (an http-errors error,
 * not an HttpException, so it would otherwise be a 500), naming the limit.
 */
function bodyTooLarge(error: unknown): string | undefined {
  const { type, limit, length } = (error ?? {}) as { type?: unknown; limit?: unknown; length?: unknown };
  if (type !== 'entity.too.large' || typeof limit !== 'number') return undefined;
  const size = typeof length === 'number' ? ` of ${length} bytes` : '';
  return `request body${size} is over the ${limit}-byte limit`;
}

/** Maps a service's own (domain) errors to what the client sees; undefined for others. */
export type ErrorTranslation = (error: unknown) => ApiError | undefined;

/**
 * Every error as `{error_code, message, issues?}` with the status of its code (MLflow's
 * codes, so a malformed body is MALFORMED_REQUEST); 5xx are logged. Domain errors
 * (`@mlops/errors`) map by their kind; `translate` may map a service's other errors first.
 */
@Catch()
export class ApiErrorFilter implements ExceptionFilter {
  private readonly log: Logger;

  constructor(
    service: string,
    private readonly translate: ErrorTranslation = () => undefined,
  ) {
    this.log = new Logger(service);
  }

  catch(error: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<{ headersSent: boolean; status(code: number): { json(body: unknown): void }; end(): void }>();
    const [status, body] = this.describe(error);
    if (status >= 500) this.log.error((error as Error)?.stack ?? String(error));
    if (response.headersSent) return response.end();
    response.status(status).json(body);
  }

  private describe(error: unknown): [number, { error_code: string; message: string; issues?: FieldIssue[] }] {
    const api = error instanceof ApiError ? error : (this.translate(error) ?? (error instanceof DomainError ? apiErrorOf(error) : undefined));
    if (api) return [api.status, { error_code: api.code, message: api.message, ...(api.issues ? { issues: api.issues } : {}) }];
    const tooLarge = bodyTooLarge(error);
    if (tooLarge) return [413, { error_code: 'REQUEST_LIMIT_EXCEEDED', message: tooLarge }];
    if (error instanceof HttpException) {
      const status = error.getStatus();
      const code = status === 404 ? 'ENDPOINT_NOT_FOUND' : status === 413 ? 'REQUEST_LIMIT_EXCEEDED' : status === 400 ? 'MALFORMED_REQUEST' : status < 500 ? 'BAD_REQUEST' : 'INTERNAL_ERROR';
      return [status, { error_code: code, message: error.message }];
    }
    return [500, { error_code: 'INTERNAL_ERROR', message: (error as Error)?.message ?? 'internal error' }];
  }
}
