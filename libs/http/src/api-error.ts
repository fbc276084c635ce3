/** The platform's HTTP error codes (MLflow's names) and the status each is answered with. */
export const ERROR_STATUS = {
  INVALID_PARAMETER_VALUE: 400,
  RESOURCE_ALREADY_EXISTS: 400,
  RESOURCE_DOES_NOT_EXIST: 404,
  ENDPOINT_NOT_FOUND: 404,
  BAD_REQUEST: 400,
  MALFORMED_REQUEST: 400,
  REQUEST_LIMIT_EXCEEDED: 413,
  INTERNAL_ERROR: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** An error the client sees as `{error_code, message}`. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
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
