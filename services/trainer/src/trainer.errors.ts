import { InvalidInputError, NotFoundError } from '@mlops/errors';

/** A job request (HTTP body, dataset.materialized or its params) the trainer cannot run. */
export class InvalidJobRequest extends InvalidInputError {}

export class JobNotFound extends NotFoundError {}
