import { InvalidInputError, type FieldIssue } from '@mlops/errors';

/** A bad request body or parameter, naming each field (`(body)` for the body as a whole). */
export function invalidRequest(issues: FieldIssue[]): InvalidInputError {
  return InvalidInputError.of(issues, issues.map((i) => `${i.field || '(body)'}: ${i.message}`).join('; '));
}
