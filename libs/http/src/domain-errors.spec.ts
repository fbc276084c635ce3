import { AlreadyExistsError, InvalidInputError, NotFoundError, TooLargeError, UnavailableError } from '@mlops/errors';
import { ApiErrorFilter } from './api-error.filter';

/** What an HTTP client receives for an error thrown by a route. */
function httpAnswer(error: unknown): { status: number; body: unknown } {
  const answer = { status: 0, body: undefined as unknown };
  const response = { headersSent: false, status: (code: number) => ((answer.status = code), { json: (body: unknown) => (answer.body = body) }), end: () => undefined };
  new ApiErrorFilter('test').catch(error, { switchToHttp: () => ({ getResponse: () => response }) } as never);
  return answer;
}

describe('domain errors over HTTP', () => {
  it('are plain errors named after their class', () => {
    const error = new NotFoundError("model 'churn' does not exist");
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('NotFoundError');
  });

  it('become MLflow error codes over HTTP, with the issues of bad input', () => {
    expect(httpAnswer(new NotFoundError('no such run'))).toEqual({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'no such run' } });
    expect(httpAnswer(InvalidInputError.of([{ field: 'version', message: 'expected a positive integer' }]))).toEqual({
      status: 400,
      body: { error_code: 'INVALID_PARAMETER_VALUE', message: 'version: expected a positive integer', issues: [{ field: 'version', message: 'expected a positive integer' }] },
    });
    expect(httpAnswer(new AlreadyExistsError('exists')).body).toMatchObject({ error_code: 'RESOURCE_ALREADY_EXISTS' });
    expect(httpAnswer(new TooLargeError('too big')).status).toBe(413);
    expect(httpAnswer(new UnavailableError('not ready')).status).toBe(503);
    expect(httpAnswer(new Error('boom'))).toEqual({ status: 500, body: { error_code: 'INTERNAL_ERROR', message: 'boom' } });
  });
});
