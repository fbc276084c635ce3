import type { ServerResponse } from 'node:http';
import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { DomainError, type DomainErrorKind } from '@mlops/errors';
import type { ServingLogger } from '../serving.logger';

const STATUS: Record<DomainErrorKind, number> = {
  invalid: 400,
  not_found: 404,
  already_exists: 409,
  too_large: 413,
  failed_precondition: 400,
  unavailable: 503,
};

/** The status and message of any error, as the v2 REST protocol answers it. */
export function v2Error(error: unknown): { status: number; message: string } {
  if (error instanceof DomainError) return { status: STATUS[error.kind], message: error.message };
  if (error instanceof HttpException) return { status: error.getStatus(), message: error.message };
  return { status: 500, message: (error as Error)?.message ?? String(error) };
}

/**
 * Writes `{"error": message}` as `application/json` exactly (no charset parameter: KServe's
 * Python client reads the error message only when the content type is exactly that).
 */
export function sendV2Error(response: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ error: message });
  response.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
  response.end(body);
}

/** Every error of serving's HTTP server as the v2 protocol says: `{"error": "<message>"}` with its status. */
@Catch()
export class V2ErrorFilter implements ExceptionFilter {
  constructor(private readonly log: ServingLogger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<ServerResponse>();
    const { status, message } = v2Error(error);
    if (status >= 500) this.log.error((error as Error)?.stack ?? String(error));
    if (response.headersSent) return void response.end();
    sendV2Error(response, status, message);
  }
}
