import { z } from 'zod';
import { issuesOf, type ContractIssue } from '@mlops/contracts';
import type { DataContract } from '../contracts/data-contract';

type Scalar = string | number | boolean | null;

const timestamp = z
  .union([z.iso.datetime({ offset: true }), z.number().int().nonnegative()], {
    error: 'expected an ISO-8601 timestamp with offset or epoch milliseconds',
  })
  .transform((v) => new Date(v).toISOString());

function fieldValidator(spec: DataContract['fields'][string]): z.ZodType<Scalar> {
  let base: z.ZodType<Scalar>;
  switch (spec.type) {
    case 'number':
    case 'integer': {
      let n = spec.type === 'integer' ? z.number().int() : z.number();
      if (spec.min !== undefined) n = n.min(spec.min);
      if (spec.max !== undefined) n = n.max(spec.max);
      base = n;
      break;
    }
    case 'string':
      base = z.string();
      break;
    case 'boolean':
      base = z.boolean();
      break;
    case 'timestamp':
      base = timestamp;
      break;
  }
  if (spec.enum) {
    const allowed = spec.enum;
    base = base.refine((v) => allowed.includes(v as string | number), {
      message: `expected one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`,
    });
  }
  return spec.required ? base : base.nullish().transform((v) => v ?? null);
}

export type Validation =
  | { ok: true; record: Record<string, Scalar>; recordId?: string; eventTime?: string; entityKey?: string }
  | { ok: false; reasons: ContractIssue[]; recordId?: string };

/** Compiles a data contract into a validator that names every offending field. */
export function compileValidator(contract: DataContract): (record: unknown) => Validation {
  const shape = Object.fromEntries(Object.entries(contract.fields).map(([name, spec]) => [name, fieldValidator(spec)]));
  const object = contract.allowExtraFields ? z.looseObject(shape) : z.strictObject(shape);
  const idOf = (r: unknown) =>
    contract.idField && r && typeof r === 'object' && (r as Record<string, unknown>)[contract.idField] != null
      ? String((r as Record<string, unknown>)[contract.idField])
      : undefined;
  return (record) => {
    const parsed = object.safeParse(record);
    if (!parsed.success) return { ok: false, reasons: issuesOf(parsed.error), recordId: idOf(record) };
    const value = parsed.data as Record<string, Scalar>;
    return {
      ok: true,
      record: value,
      recordId: idOf(value),
      eventTime: contract.timestampField ? (value[contract.timestampField] as string | undefined) ?? undefined : undefined,
      entityKey: contract.entityKeyField && value[contract.entityKeyField] != null ? String(value[contract.entityKeyField]) : undefined,
    };
  };
}
