import { status, type ServiceError } from '@grpc/grpc-js';
import { DomainError, type DomainErrorKind } from '@mlops/errors';

const STATUS_OF_KIND: Record<DomainErrorKind, status> = {
  not_found: status.NOT_FOUND,
  invalid: status.INVALID_ARGUMENT,
  already_exists: status.ALREADY_EXISTS,
  too_large: status.RESOURCE_EXHAUSTED,
  failed_precondition: status.FAILED_PRECONDITION,
  unavailable: status.UNAVAILABLE,
};

/** The gRPC status of an error (the one place domain error kinds become gRPC codes); INTERNAL for the unexpected. */
export function grpcStatusOf(error: unknown): Pick<ServiceError, 'code' | 'details'> {
  if (error instanceof DomainError) return { code: STATUS_OF_KIND[error.kind], details: error.message };
  return { code: status.INTERNAL, details: (error as Error)?.message ?? 'internal error' };
}
