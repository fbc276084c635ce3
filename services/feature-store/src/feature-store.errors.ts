import { InvalidInputError, NotFoundError } from '@mlops/errors';

export class UnknownViewError extends NotFoundError {
  constructor(
    readonly view: string,
    defined?: readonly string[],
  ) {
    super(`feature view "${view}" is not defined${defined ? ` (defined views: ${defined.join(', ') || 'none'})` : ''}`);
  }
}

/** A read request the store cannot answer; the message starts with the field at fault. */
export class InvalidRequestError extends InvalidInputError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`, [{ field, message: `${field}: ${message}` }]);
  }
}
