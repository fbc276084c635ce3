import { InvalidInputError } from '@mlops/errors';

export const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const TERMINAL: RunStatus[] = ['FINISHED', 'FAILED', 'KILLED'];

/** A status by name (any case) or by its protobuf number. */
export function parseStatus(value: unknown): RunStatus {
  const byNumber: Record<string, RunStatus> = { '1': 'RUNNING', '2': 'SCHEDULED', '3': 'FINISHED', '4': 'FAILED', '5': 'KILLED' };
  const text = String(value);
  const status = byNumber[text] ?? text.toUpperCase();
  if (!(RUN_STATUSES as readonly string[]).includes(status)) {
    throw new InvalidInputError(`invalid run status "${text}"; expected one of ${RUN_STATUSES.join(', ')}`);
  }
  return status as RunStatus;
}
