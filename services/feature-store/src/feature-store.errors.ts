import { InvalidInputError, NotFoundError } from '@mlops/errors';

export class UnknownViewError extends NotFoundError {
  constructor(readonly view: string) {
    super(`feature view "${view}" is not defined`);
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
