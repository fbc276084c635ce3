import { status } from '@grpc/grpc-js';
import { InvalidInputError, NotFoundError, TooLargeError } from '@mlops/errors';
import { grpcStatusOf } from './grpc-status';

describe('domain errors over gRPC', () => {
  it('become gRPC status codes', () => {
    expect(grpcStatusOf(new NotFoundError('no model'))).toEqual({ code: status.NOT_FOUND, details: 'no model' });
    expect(grpcStatusOf(InvalidInputError.of([{ field: 'inputs.0', message: 'wrong shape' }])).code).toBe(status.INVALID_ARGUMENT);
    expect(grpcStatusOf(new TooLargeError('big')).code).toBe(status.RESOURCE_EXHAUSTED);
    expect(grpcStatusOf(new Error('boom'))).toEqual({ code: status.INTERNAL, details: 'boom' });
  });
});
