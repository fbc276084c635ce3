/**
 * What went wrong, in the domain's words. The edges map a kind to their own status in one
 * place each: HTTP (`@mlops/http` ApiErrorFilter, MLflow's error codes) and gRPC
 * (`@mlops/grpc` grpcStatusOf).
 */
export type DomainErrorKind = 'not_found' | 'invalid' | 'already_exists' | 'too_large' | 'failed_precondition' | 'unavailable';

export interface FieldIssue {
  /** The offending field as a path (`records.3.amount`); empty for the whole input. */
  field: string;
  message: string;
}

/** Base of every error a service's domain code throws on purpose; knows no protocol. */
export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;

  constructor(
    message: string,
    /** Each offending field, when the input was at fault. */
    readonly issues?: FieldIssue[],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The thing asked for does not exist. */
export class NotFoundError extends DomainError {
  readonly kind = 'not_found';
}

/** The input is wrong; `issues` names each field. */
export class InvalidInputError extends DomainError {
  readonly kind = 'invalid';

  /** The message lists every issue (`field: message; ...`). */
  static of(issues: FieldIssue[], message = issues.map((i) => `${i.field || '(input)'}: ${i.message}`).join('; ')): InvalidInputError {
    return new InvalidInputError(message, issues);
  }
}

/** Creating something that already exists. */
export class AlreadyExistsError extends DomainError {
  readonly kind = 'already_exists';
}

/** The input is over a size limit. */
export class TooLargeError extends DomainError {
  readonly kind = 'too_large';
}

/** The request is well formed but the current state does not allow it. */
export class FailedPreconditionError extends DomainError {
  readonly kind = 'failed_precondition';
}

/** A dependency is down or not ready; trying again later may work. */
export class UnavailableError extends DomainError {
  readonly kind = 'unavailable';
}
