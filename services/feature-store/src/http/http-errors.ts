import { ArgumentsHost, Catch, HttpException, type ExceptionFilter } from '@nestjs/common';
import type { ContractIssue } from '@mlops/contracts';
import { InvalidRequestError, UnknownViewError } from '../feature-store.service';

export class BadRequest extends Error {
  constructor(readonly issues: ContractIssue[]) {
    super(issues.map((i) => `${i.field || '(body)'}: ${i.message}`).join('; '));
    this.name = 'BadRequest';
  }
}

export class NotFound extends Error {
  override name = 'NotFound';
}

interface ErrorBody {
  error_code: string;
  message: string;
  issues?: ContractIssue[];
}

/** Errors as `{error_code, message, issues?}` with the HTTP status a client can act on. */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  catch(error: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<{ status(code: number): { json(body: unknown): void } }>();
    const [status, body] = this.describe(error);
    response.status(status).json(body);
  }

  private describe(error: unknown): [number, ErrorBody] {
    if (error instanceof UnknownViewError || error instanceof NotFound) return [404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: error.message }];
    if (error instanceof BadRequest) return [400, { error_code: 'INVALID_PARAMETER_VALUE', message: error.message, issues: error.issues }];
    if (error instanceof InvalidRequestError) {
      return [400, { error_code: 'INVALID_PARAMETER_VALUE', message: error.message, issues: [{ field: error.field, message: error.message }] }];
    }
    if (error instanceof HttpException) {
      const status = error.getStatus();
      const code = status === 413 ? 'REQUEST_LIMIT_EXCEEDED' : status === 404 ? 'ENDPOINT_NOT_FOUND' : 'BAD_REQUEST';
      return [status, { error_code: code, message: error.message }];
    }
    return [500, { error_code: 'INTERNAL_ERROR', message: (error as Error)?.message ?? 'internal error' }];
  }
}
