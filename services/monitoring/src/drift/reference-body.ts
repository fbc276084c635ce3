import { z } from 'zod';
import { METHOD_KIND, type DriftMethod } from '@mlops/drift';

const scalar = z.union([z.number(), z.string(), z.boolean(), z.null()]);
const methods = Object.keys(METHOD_KIND) as [DriftMethod, ...DriftMethod[]];

export const referenceBodySchema = z
  .object({
    rows: z.array(z.record(z.string(), scalar)).min(1).optional(),
    columns: z.record(z.string(), z.array(scalar).min(1)).optional(),
    /** Per-feature test/threshold overrides; default tests follow Evidently. */
    features: z
      .record(z.string(), z.object({ method: z.enum(methods).optional(), threshold: z.number().positive().optional(), ignore: z.boolean().optional() }))
      .optional(),
    datasetDriftShare: z.number().gt(0).max(1).optional(),
  })
  .refine((b) => (b.rows === undefined) !== (b.columns === undefined), { message: 'give exactly one of rows or columns' });

export type ReferenceBody = z.input<typeof referenceBodySchema>;

export type ReferenceSource = 'http' | 'first-predictions' | 'training-dataset';
