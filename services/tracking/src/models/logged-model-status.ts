import { InvalidInputError } from '@mlops/errors';

/** A logged model's status as stored. */
export type LoggedModelStatus = 'PENDING' | 'READY' | 'FAILED';

/** MLflow's LoggedModelStatus enum on the wire: names and numbers. */
const WIRE: Record<LoggedModelStatus, { name: string; number: number }> = {
  PENDING: { name: 'LOGGED_MODEL_PENDING', number: 1 },
  READY: { name: 'LOGGED_MODEL_READY', number: 2 },
  FAILED: { name: 'LOGGED_MODEL_UPLOAD_FAILED', number: 3 },
};

/** A finalize status: the proto enum's name or number (or the short name); `field` names the field for the error. */
export function parseLoggedModelStatus(value: unknown, field = 'status'): LoggedModelStatus {
  for (const [status, wire] of Object.entries(WIRE) as [LoggedModelStatus, (typeof WIRE)[LoggedModelStatus]][]) {
    if (value === wire.name || value === wire.number || value === String(wire.number) || value === status) return status;
  }
  const expected = Object.values(WIRE)
    .map((w) => `${w.name} (${w.number})`)
    .join(', ');
  throw InvalidInputError.of([{ field, message: `expected one of ${expected}, got ${JSON.stringify(value ?? null)}` }]);
}

/** The proto enum name MLflow's JSON carries. */
export const wireStatus = (status: string): string => WIRE[status as LoggedModelStatus]?.name ?? 'LOGGED_MODEL_STATUS_UNSPECIFIED';
