import { DomainError, type DomainErrorKind, type FieldIssue } from '@mlops/errors';

/** The platform's HTTP error codes (MLflow's names) and the status each is answered with. */
export const ERROR_STATUS = {
  INVALID_PARAMETER_VALUE: 400,
  RESOURCE_ALREADY_EXISTS: 400,
  RESOURCE_DOES_NOT_EXIST: 404,
  FAILED_PRECONDITION: 409,
  ENDPOINT_NOT_FOUND: 404,
  BAD_REQUEST: 400,
  MALFORMED_REQUEST: 400,
  REQUEST_LIMIT_EXCEEDED: 413,
  UNAUTHENTICATED: 401,
  TEMPORARILY_UNAVAILABLE: 503,
  INTERNAL_ERROR: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export type { FieldIssue };

/** An error the client sees as `{error_code, message, issues?}`. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly issues?: FieldIssue[],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export const invalid = (message: string) => new ApiError('INVALID_PARAMETER_VALUE', message);
export const notFound = (message: string) => new ApiError('RESOURCE_DOES_NOT_EXIST', message);

/** INVALID_PARAMETER_VALUE naming each bad field. */
export const invalidFields = (issues: FieldIssue[], message = issues.map((i) => `${i.field || '(body)'}: ${i.message}`).join('; ')) =>
  new ApiError('INVALID_PARAMETER_VALUE', message, issues);
export const tooLarge = (message: string) => new ApiError('REQUEST_LIMIT_EXCEEDED', message);

const CODE_OF_KIND: Record<DomainErrorKind, ErrorCode> = {
  not_found: 'RESOURCE_DOES_NOT_EXIST',
  invalid: 'INVALID_PARAMETER_VALUE',
  already_exists: 'RESOURCE_ALREADY_EXISTS',
  too_large: 'REQUEST_LIMIT_EXCEEDED',
  failed_precondition: 'INVALID_PARAMETER_VALUE',
  unavailable: 'TEMPORARILY_UNAVAILABLE',
};

/** A domain error as the HTTP client sees it (the one place kinds become HTTP codes). */
export function apiErrorOf(error: DomainError): ApiError {
  return new ApiError(CODE_OF_KIND[error.kind], error.message, error.issues);
}
