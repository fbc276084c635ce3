import { invalidFields, notFound, type ApiError } from '@mlops/http';
import { InvalidRequest, NotFound } from '../monitoring.service';

/** What monitoring's domain errors look like to an HTTP client. */
export function monitoringErrors(error: unknown): ApiError | undefined {
  if (error instanceof NotFound) return notFound(error.message);
  if (error instanceof InvalidRequest) return invalidFields(error.issues, error.message);
  return undefined;
}
