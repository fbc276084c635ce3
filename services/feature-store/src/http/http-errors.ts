import { invalidFields, notFound, type ApiError } from '@mlops/http';
import { InvalidRequestError, UnknownViewError } from '../feature-store.service';

/** What the feature store's domain errors look like to an HTTP client. */
export function featureStoreErrors(error: unknown): ApiError | undefined {
  if (error instanceof UnknownViewError) return notFound(error.message);
  if (error instanceof InvalidRequestError) return invalidFields([{ field: error.field, message: error.message }], error.message);
  return undefined;
}
