import { invalid, invalidFields, notFound, type ApiError } from '@mlops/http';
import { InvalidContractError, UnknownSourceError } from '../ingestion.service';

/** What ingestion's domain errors look like to an HTTP client. */
export function ingestionErrors(error: unknown): ApiError | undefined {
  if (error instanceof UnknownSourceError) return notFound(error.message);
  if (error instanceof InvalidContractError) return invalidFields(error.issues, error.message);
  if (error instanceof Error && /source name/.test(error.message)) return invalid(error.message);
  return undefined;
}
