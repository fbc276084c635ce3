import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { fieldTypeSchema, issuesOf, type ContractIssue } from '@mlops/contracts';
import { InvalidInputError } from '@mlops/errors';

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `30s`, `15m`, `1h`, `24h`, `7d` -> milliseconds. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)(s|m|h|d)$/.exec(text.trim());
  if (!match) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  return ms > 0 ? ms : undefined;
}

const name = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'names are letters, digits and _ (not starting with a digit)');
const fieldName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/, 'field names are letters, digits, _ . -');

const featureSchema = z
  .object({
    name,
    /** The record field copied into the feature; defaults to the feature name. */
    field: fieldName.optional(),
    type: fieldTypeSchema,
  })
  .strict()
  .transform((f) => ({ ...f, field: f.field ?? f.name }));

const aggregationSchema = z
  .object({
    name,
    function: z.enum(['count', 'sum', 'mean']),
    /** Required for sum and mean; for count, counts non-null values of it (all events when omitted). */
    field: fieldName.optional(),
    window: z.string().refine((w) => parseDuration(w) !== undefined, 'expected a duration such as 30s, 15m, 1h, 24h or 7d'),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (a.function !== 'count' && !a.field) ctx.addIssue({ code: 'custom', path: ['field'], message: `${a.function} needs a field` });
  })
  .transform((a) => ({ ...a, windowMs: parseDuration(a.window)! }));

export const featureViewSchema = z
  .object({
    name,
    /** The ingestion source whose data.validated events feed this view. */
    source: z.string().min(1).max(200),
    /** The record field that identifies the entity (e.g. user). */
    entityKey: fieldName,
    /** The record field with the event time (ISO-8601 string or epoch milliseconds). */
    timestampField: fieldName,
    features: z.array(featureSchema).default([]),
    aggregations: z.array(aggregationSchema).default([]),
  })
  .strict()
  .superRefine((view, ctx) => {
    const names = [...view.features.map((f) => f.name), ...view.aggregations.map((a) => a.name)];
    const seen = new Set<string>();
    names.forEach((n, i) => {
      if (seen.has(n)) ctx.addIssue({ code: 'custom', path: [i < view.features.length ? 'features' : 'aggregations'], message: `"${n}" is defined twice` });
      seen.add(n);
    });
    if (names.length === 0) ctx.addIssue({ code: 'custom', path: ['features'], message: 'a view needs at least one feature or aggregation' });
    if ([view.entityKey, 'event_timestamp'].some((reserved) => seen.has(reserved))) {
      ctx.addIssue({ code: 'custom', path: ['features'], message: `"${view.entityKey}" and "event_timestamp" are reserved column names` });
    }
  });

export type FeatureView = z.output<typeof featureViewSchema>;
export type FeatureViewInput = z.input<typeof featureViewSchema>;
export type FeatureType = FeatureView['features'][number]['type'];

export const featureViewsFileSchema = z
  .object({ featureViews: z.array(featureViewSchema).min(1, 'at least one feature view') })
  .strict()
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.featureViews.forEach((v, i) => {
      if (seen.has(v.name)) ctx.addIssue({ code: 'custom', path: ['featureViews', i, 'name'], message: `view "${v.name}" is defined twice` });
      seen.add(v.name);
    });
  });

/** The feature views file is not valid; `issues` name each offending field. */
export class InvalidFeatureViewsError extends InvalidInputError {
  constructor(
    readonly file: string,
    override readonly issues: ContractIssue[],
  ) {
    super(`invalid feature views in ${file}: ${issues.map((i) => `${i.field || '(root)'}: ${i.message}`).join('; ')}`, issues);
  }
}

/** Parses and validates the YAML text of a feature views file. */
export function parseFeatureViews(text: string, file = '(inline)'): FeatureView[] {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new InvalidFeatureViewsError(file, [{ field: '', message: `not valid YAML: ${(error as Error).message}` }]);
  }
  const parsed = featureViewsFileSchema.safeParse(value);
  if (!parsed.success) throw new InvalidFeatureViewsError(file, issuesOf(parsed.error));
  return parsed.data.featureViews;
}

export const EXAMPLE_VIEWS_FILE = 'services/feature-store/feature-views.example.yaml';

/** The bundled example: found from src/ (tests) and from dist/ (production). */
export function findExampleViewsFile(start = __dirname): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, EXAMPLE_VIEWS_FILE))) return join(dir, EXAMPLE_VIEWS_FILE);
    if (dirname(dir) === dir) throw new Error(`${EXAMPLE_VIEWS_FILE} not found above ${start}; set FEATURE_VIEWS_FILE`);
  }
}

export function loadFeatureViews(file: string): FeatureView[] {
  return parseFeatureViews(readFileSync(file, 'utf8'), file);
}

/** The Arrow/dataset column types of a view: entity key, event timestamp, features, aggregations. */
export function viewColumns(view: FeatureView): { name: string; type: FeatureType }[] {
  return [
    { name: view.entityKey, type: 'string' },
    { name: 'event_timestamp', type: 'timestamp' },
    ...view.features.map((f) => ({ name: f.name, type: f.type })),
    ...view.aggregations.map((a) => ({ name: a.name, type: a.function === 'count' ? ('integer' as const) : ('number' as const) })),
  ];
}

/** Feature and aggregation names in column order. */
export function featureNames(view: FeatureView): string[] {
  return [...view.features.map((f) => f.name), ...view.aggregations.map((a) => a.name)];
}
