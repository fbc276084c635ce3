import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import { InvalidJobRequest, JobNotFound } from '../trainer.service';

/** Errors as `{error_code, message}` with the HTTP status a client can act on. */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly log = new Logger('trainer');

  catch(error: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<{ status(code: number): { json(body: unknown): void } }>();
    const [status, body] = this.describe(error);
    if (status >= 500) this.log.error((error as Error)?.stack ?? String(error));
    response.status(status).json(body);
  }

  private describe(error: unknown): [number, { error_code: string; message: string }] {
    if (error instanceof InvalidJobRequest) return [400, { error_code: 'INVALID_PARAMETER_VALUE', message: error.message }];
    if (error instanceof JobNotFound) return [404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: error.message }];
    if (error instanceof HttpException) {
      const status = error.getStatus();
      const code = status === 404 ? 'ENDPOINT_NOT_FOUND' : status === 413 ? 'REQUEST_LIMIT_EXCEEDED' : status === 400 ? 'MALFORMED_REQUEST' : status < 500 ? 'BAD_REQUEST' : 'INTERNAL_ERROR';
      return [status, { error_code: code, message: error.message }];
    }
    return [500, { error_code: 'INTERNAL_ERROR', message: (error as Error)?.message ?? 'internal error' }];
  }
}
