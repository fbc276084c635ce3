import { invalid, notFound, type ApiError } from '@mlops/http';
import { InvalidJobRequest, JobNotFound } from '../trainer.service';

/** What the trainer's domain errors look like to an HTTP client. */
export function trainerErrors(error: unknown): ApiError | undefined {
  if (error instanceof InvalidJobRequest) return invalid(error.message);
  if (error instanceof JobNotFound) return notFound(error.message);
  return undefined;
}
