import { FailedPreconditionError } from '@mlops/errors';

/** A deployment or promotion that serving cannot carry out as asked (HTTP 409, see registry.app). */
export class ServingConflictError extends FailedPreconditionError {}
