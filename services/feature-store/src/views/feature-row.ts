import type { FeatureView } from './feature-view';

export type Scalar = number | string | boolean | null;
export type FeatureValues = Record<string, Scalar>;

/** A record of a view's source, reduced to what the view needs. */
export interface ViewEvent {
  entityKey: string;
  eventTimeMs: number;
  /** Copied features (timestamps as ISO-8601 strings). */
  features: FeatureValues;
  /** The numeric inputs of the view's aggregations, by record field. */
  inputs: Record<string, number | null>;
}

export type Extraction = { ok: true; event: ViewEvent } | { ok: false; field: string; reason: string };

/** ISO-8601 string or epoch milliseconds -> epoch milliseconds. */
export function toEpochMs(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.floor(value);
  if (typeof value === 'string' && value.trim() !== '') {
    const ms = /^-?\d+$/.test(value) ? Number(value) : Date.parse(value);
    return Number.isFinite(ms) ? Math.floor(ms) : undefined;
  }
  return undefined;
}

/**
 * A record value as a feature of the given type: null when absent, undefined when present
 * but of the wrong type (the record is then rejected, never silently nulled). Strings take
 * any value (objects as JSON).
 */
function coerce(value: unknown, type: FeatureView['features'][number]['type']): Scalar | undefined {
  if (value === undefined || value === null) return null;
  switch (type) {
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
    case 'boolean':
      return typeof value === 'boolean' ? value : undefined;
    case 'string':
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
    case 'timestamp': {
      const ms = toEpochMs(value);
      return ms === undefined ? undefined : new Date(ms).toISOString();
    }
  }
}

const kindOf = (value: unknown): string => (Array.isArray(value) ? 'array' : typeof value === 'number' && !Number.isFinite(value) ? String(value) : typeof value);

/**
 * Reads entity key, event time, features and aggregation inputs of a record for a view.
 * A missing entity key or timestamp, or a present value of the wrong type, rejects the
 * record for the view with the field and what was expected.
 */
export function extractViewEvent(view: FeatureView, record: Record<string, unknown>): Extraction {
  const key = record[view.entityKey];
  if (key === undefined || key === null || key === '' || (typeof key !== 'string' && typeof key !== 'number')) {
    return { ok: false, field: view.entityKey, reason: `entity key "${view.entityKey}" is missing or not a string/number` };
  }
  const eventTimeMs = toEpochMs(record[view.timestampField]);
  if (eventTimeMs === undefined) {
    return { ok: false, field: view.timestampField, reason: `timestamp "${view.timestampField}" is missing or not a time` };
  }
  const features: FeatureValues = {};
  for (const f of view.features) {
    const value = coerce(record[f.field], f.type);
    if (value === undefined) {
      return { ok: false, field: f.field, reason: `field "${f.field}" of feature ${f.name} is ${kindOf(record[f.field])}, expected ${f.type === 'timestamp' ? 'a time' : `a ${f.type}`} or null` };
    }
    features[f.name] = value;
  }
  const inputs: Record<string, number | null> = {};
  for (const a of view.aggregations) {
    if (!a.field) continue;
    const v = record[a.field];
    if (v === undefined || v === null) {
      inputs[a.field] = null;
    } else if (typeof v === 'number' && Number.isFinite(v)) {
      inputs[a.field] = v;
    } else {
      return { ok: false, field: a.field, reason: `field "${a.field}" of aggregation ${a.name} is ${kindOf(v)}, expected a finite number or null` };
    }
  }
  return { ok: true, event: { entityKey: String(key), eventTimeMs, features, inputs } };
}

export interface WindowEvent {
  eventTimeMs: number;
  inputs: Record<string, number | null>;
}

/**
 * The view's windowed aggregations as of `atMs`: each over the events with event time in
 * (atMs - window, atMs]. count counts events (or non-null values of its field), sum adds
 * non-null values (0 when none), mean is sum / non-null count (null when none).
 */
export function aggregate(view: FeatureView, events: WindowEvent[], atMs: number): FeatureValues {
  const values: FeatureValues = {};
  for (const a of view.aggregations) {
    let count = 0;
    let sum = 0;
    for (const e of events) {
      if (e.eventTimeMs > atMs || e.eventTimeMs <= atMs - a.windowMs) continue;
      if (!a.field) {
        count++;
        continue;
      }
      const v = e.inputs[a.field];
      if (v === null || v === undefined) continue;
      count++;
      sum += v;
    }
    values[a.name] = a.function === 'count' ? count : a.function === 'sum' ? sum : count === 0 ? null : sum / count;
  }
  return values;
}

/** How far back the longest aggregation window of a view reaches. */
export function longestWindowMs(view: FeatureView): number {
  return Math.max(0, ...view.aggregations.map((a) => a.windowMs));
}
