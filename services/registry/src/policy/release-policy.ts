import { InvalidInputError } from '@mlops/errors';
import { z } from 'zod';

const metricName = z.string().min(1).max(250);

/** A model's release policy as declared (PUT /models/:name/policy); each part is optional. */
export const releasePolicySchema = z
  .object({
    /** Absolute bounds on reported metrics, e.g. {"metric": "f1", "min": 0.85}. */
    thresholds: z
      .array(
        z
          .object({ metric: metricName, min: z.number().finite().optional(), max: z.number().finite().optional() })
          .strict()
          .refine((t) => t.min !== undefined || t.max !== undefined, { message: 'give min, max or both' })
          .refine((t) => t.min === undefined || t.max === undefined || t.min <= t.max, { message: 'min must not exceed max' }),
      )
      .max(100)
      .optional(),
    /** No worse than the champion on `metric` by more than `tolerance` (default: REGISTRY_GATE_METRIC, REGISTRY_GATE_TOLERANCE). */
    champion: z.object({ metric: metricName, tolerance: z.number().finite().min(0) }).strict().optional(),
    /** Bound on the candidate's p99 per-request latency (ms), measured by serving during warm-up on the holdout rows, before the version takes traffic. */
    latencyP99Ms: z.number().finite().positive().optional(),
    /** Bound on the ONNX artifact's size in bytes. */
    maxModelBytes: z.number().int().positive().optional(),
    /** The worst slice of `column` on the holdout (metrics `<metric>/<column>/<value>`) within `maxGap` of the overall `metric`. */
    slices: z
      .object({ column: z.string().min(1).max(200).regex(/^[^/]+$/, "a column name without '/'"), metric: metricName, maxGap: z.number().finite().min(0) })
      .strict()
      .optional(),
  })
  .strict();

export type ReleasePolicy = z.output<typeof releasePolicySchema>;

/** The policy a candidate is checked against: the declared parts over the config's defaults. */
export type EffectivePolicy = ReleasePolicy & { champion: { metric: string; tolerance: number } };

/** Parses a PUT body; bad input is refused naming each field and what was expected. */
export function parseReleasePolicy(raw: unknown): ReleasePolicy {
  const parsed = releasePolicySchema.safeParse(raw ?? {});
  if (!parsed.success) throw InvalidInputError.of(parsed.error.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message })));
  return parsed.data;
}

/** The config's defaults: REGISTRY_RELEASE_POLICY, and the champion check of REGISTRY_GATE_METRIC / REGISTRY_GATE_TOLERANCE. */
export interface PolicyDefaults {
  policy: ReleasePolicy;
  metric: string;
  tolerance: number;
}

/** The declared policy over the defaults: each declared part replaces the default's. */
export function effectivePolicy(declared: ReleasePolicy | undefined, defaults: PolicyDefaults): EffectivePolicy {
  const merged = { ...defaults.policy, ...declared };
  return { ...merged, champion: merged.champion ?? { metric: defaults.metric, tolerance: defaults.tolerance } };
}

/** A stable JSON text of a policy (keys sorted), so an unchanged PUT is recognised. */
export function canonicalPolicy(policy: ReleasePolicy): string {
  const sort = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(sort)
      : value && typeof value === 'object'
        ? Object.fromEntries(
            Object.entries(value as Record<string, unknown>)
              .filter(([, v]) => v !== undefined)
              .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
              .map(([k, v]) => [k, sort(v)]),
          )
        : value;
  return JSON.stringify(sort(policy));
}
