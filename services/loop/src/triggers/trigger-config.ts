import { Cron } from 'croner';
import { z } from 'zod';
import { InvalidInputError } from '@mlops/errors';

/** A model's retrain triggers as the API reads and writes them. */
export interface Triggers {
  drift: boolean;
  performance: boolean;
  /** A cron expression: 5 fields (minute first) or 6 (seconds first). */
  schedule: string | null;
  newData: { rows: number } | null;
}

/** Parses a cron expression with croner; undefined when it is not one. */
export function cronOf(expression: string): Cron | undefined {
  try {
    return new Cron(expression, { paused: true, timezone: 'UTC' });
  } catch {
    return undefined;
  }
}

const CRON_EXPECTED = 'expected a cron expression of 5 fields (minute hour day-of-month month day-of-week, e.g. "0 3 * * 1") or 6 (seconds first)';

export const triggersBody = z.strictObject({
  drift: z.boolean({ error: 'expected true or false' }),
  performance: z.boolean({ error: 'expected true or false' }),
  schedule: z
    .string({ error: `${CRON_EXPECTED}, or null` })
    .max(200)
    .nullable()
    .superRefine((value, ctx) => {
      if (value !== null && !cronOf(value)) ctx.addIssue({ code: 'custom', message: `"${value}" is not valid: ${CRON_EXPECTED}` });
    }),
  newData: z
    .strictObject({ rows: z.number({ error: 'expected a whole number of rows' }).int('expected a whole number of rows').min(1, 'expected at least 1 row').max(1_000_000_000) })
    .nullable(),
});

/** The body of PUT /api/triggers/:model, or an InvalidInputError naming each bad field. */
export function parseTriggers(body: unknown): Triggers {
  const parsed = triggersBody.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message }));
    throw InvalidInputError.of(issues, issues.map((i) => `${i.field || '(body)'}: ${i.message}`).join('; '));
  }
  return parsed.data;
}
