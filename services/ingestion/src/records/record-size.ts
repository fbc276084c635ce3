import type { ContractIssue } from '@mlops/contracts';
import type { LimitViolation } from '@mlops/bus';

/** Characters of a record kept in a `data.rejected` event when the whole record cannot be. */
export const PREVIEW_CHARS = 10_000;

/** The first PREVIEW_CHARS characters of a record's JSON. */
export function recordPreview(record: unknown): string {
  return (typeof record === 'string' ? record : JSON.stringify(record) ?? String(record)).slice(0, PREVIEW_CHARS);
}

/** The top-level field of a record whose JSON value is the largest. */
function largestField(record: unknown): { field: string; bytes: number } | undefined {
  if (!record || typeof record !== 'object') return undefined;
  let largest: { field: string; bytes: number } | undefined;
  for (const [field, value] of Object.entries(record)) {
    const bytes = Buffer.byteLength(JSON.stringify(value) ?? '');
    if (!largest || bytes > largest.bytes) largest = { field, bytes };
  }
  return largest;
}

/** Why a valid record is rejected: the data.validated event it becomes is over the message limit. */
export function oversizeEventIssue(record: unknown, over: LimitViolation): ContractIssue {
  const largest = largestField(record);
  return {
    field: largest?.field ?? '',
    message:
      `the data.validated event this record becomes is ${over.bytes} bytes, over the ${over.limit}-byte limit (${over.setting})` +
      (largest ? `; field "${largest.field}" takes ${largest.bytes} bytes` : ''),
  };
}

/** Why a raw record is rejected unread: its value or Kafka key is over a bus limit. */
export function oversizeRawIssue(over: LimitViolation): ContractIssue {
  return { field: over.field === 'key' ? '(key)' : '(record)', message: `raw record ${over.reason}` };
}
