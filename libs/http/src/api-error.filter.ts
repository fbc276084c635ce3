import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { ApiError } from './api-error';

/** Every error as `{error_code, message}` with the status of its code; 5xx are logged. */
@Catch()
export class ApiErrorFilter implements ExceptionFilter {
  private readonly log: Logger;

  constructor(service: string) {
    this.log = new Logger(service);
  }

  catch(error: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<{ headersSent: boolean; status(code: number): { json(body: unknown): void }; end(): void }>();
    const [status, body] = this.describe(error);
    if (status >= 500) this.log.error((error as Error)?.stack ?? String(error));
    if (response.headersSent) return response.end();
    response.status(status).json(body);
  }

  private describe(error: unknown): [number, { error_code: string; message: string }] {
    if (error instanceof ApiError) return [error.status, { error_code: error.code, message: error.message }];
    if (error instanceof HttpException) {
      const status = error.getStatus();
      const code = status === 404 ? 'ENDPOINT_NOT_FOUND' : status === 413 ? 'REQUEST_LIMIT_EXCEEDED' : status === 400 ? 'MALFORMED_REQUEST' : status < 500 ? 'BAD_REQUEST' : 'INTERNAL_ERROR';
      return [status, { error_code: code, message: error.message }];
    }
    return [500, { error_code: 'INTERNAL_ERROR', message: (error as Error)?.message ?? 'internal error' }];
  }
}
