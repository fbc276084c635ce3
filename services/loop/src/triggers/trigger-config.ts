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

const manualRunBody = z.strictObject({ reason: z.string({ error: 'expected a string' }).min(1).max(500).optional() });

function parsed<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message }));
    throw InvalidInputError.of(issues, issues.map((i) => `${i.field || '(body)'}: ${i.message}`).join('; '));
  }
  return result.data;
}

/** The body of PUT /api/triggers/:model, or an InvalidInputError naming each bad field. */
export function parseTriggers(body: unknown): Triggers {
  return parsed(triggersBody, body);
}

/** The body of POST /api/triggers/:model/run (may be empty). */
export function parseManualRun(body: unknown): { reason?: string } {
  return parsed(manualRunBody, body ?? {});
}

const MODEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** A model name as the trigger routes take it, or an InvalidInputError naming `model`. */
export function checkModel(model: string): void {
  if (!MODEL.test(model)) {
    throw InvalidInputError.of([{ field: 'model', message: `"${model}" is not a model name: expected 1-200 letters, digits, '.', '_' or '-'` }]);
  }
}
