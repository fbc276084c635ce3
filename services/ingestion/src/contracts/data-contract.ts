import { z } from 'zod';
import { fieldTypeSchema } from '@mlops/contracts';

const fieldSpec = z
  .object({
    type: fieldTypeSchema,
    required: z.boolean().default(true),
    min: z.number().optional(),
    max: z.number().optional(),
    enum: z.array(z.union([z.string(), z.number()])).min(1).optional(),
    description: z.string().optional(),
  })
  .strict();

const fieldName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/, 'field names are letters, digits, _ . -');

/** What a source promises about its records; registered per source, versioned. */
export const dataContractSchema = z
  .object({
    fields: z.record(fieldName, fieldSpec).refine((f) => Object.keys(f).length > 0, 'at least one field'),
    /** A field that identifies a record; re-sent records with the same id are the same event. */
    idField: z.string().optional(),
    /** The event time of a record (feature stores need it for point-in-time joins). */
    timestampField: z.string().optional(),
    /** The entity the record is about (e.g. user_id); becomes the Kafka key downstream. */
    entityKeyField: z.string().optional(),
    allowExtraFields: z.boolean().default(false),
  })
  .strict()
  .superRefine((contract, ctx) => {
    for (const key of ['idField', 'timestampField', 'entityKeyField'] as const) {
      const field = contract[key];
      if (field !== undefined && !(field in contract.fields)) {
        ctx.addIssue({ code: 'custom', path: [key], message: `"${field}" is not one of the declared fields` });
      }
    }
    const ts = contract.timestampField;
    if (ts && contract.fields[ts]?.type !== 'timestamp') {
      ctx.addIssue({ code: 'custom', path: ['timestampField'], message: `"${ts}" must have type timestamp` });
    }
  });

export type DataContract = z.output<typeof dataContractSchema>;
export type DataContractInput = z.input<typeof dataContractSchema>;

export interface RegisteredContract {
  source: string;
  version: number;
  contract: DataContract;
  createdAt: Date;
}
