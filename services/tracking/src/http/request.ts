import { invalid } from '@mlops/http';
import type { DatasetInput, KeyValue, MetricInput, ModelOutput } from '../runs/run';

/** Reading MLflow request messages: protobuf JSON sends int64 as numbers or strings. */
export type Message = Record<string, unknown>;

export function message(value: unknown): Message {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Message) : {};
}

export function optionalInt(body: Message, field: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw invalid(`Invalid value ${JSON.stringify(value)} for parameter '${field}' supplied: expected an integer`);
  return n;
}

export function requiredInt(body: Message, field: string): number {
  const n = optionalInt(body, field);
  if (n === undefined) throw invalid(`Missing value for required parameter '${field}'.`);
  return n;
}

export function double(value: unknown, field: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    if (value === 'NaN') return NaN;
    if (value === 'Infinity') return Infinity;
    if (value === '-Infinity') return -Infinity;
    if (value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  }
  if (value === undefined || value === null) throw invalid(`Missing value for required parameter '${field}'.`);
  throw invalid(`Invalid value ${JSON.stringify(value)} for parameter '${field}' supplied: expected a number`);
}

export function requiredString(body: Message, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') throw invalid(`Missing value for required parameter '${field}'.`);
  return value;
}

export function optionalString(body: Message, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(`Invalid value ${JSON.stringify(value)} for parameter '${field}' supplied: expected a string`);
  return value;
}

/** run_id, or the deprecated run_uuid. */
export function runIdOf(body: Message): string {
  const id = body.run_id ?? body.run_uuid;
  if (typeof id !== 'string' || id === '') throw invalid("Missing value for required parameter 'run_id'.");
  return id;
}

export function list(body: Message, field: string): unknown[] {
  const value = body[field];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    // A query string with one value gives a string.
    if (typeof value === 'string') return [value];
    throw invalid(`Invalid value for parameter '${field}' supplied: expected a list`);
  }
  return value;
}

export function keyValues(body: Message, field: string): KeyValue[] {
  return list(body, field).map((item, i) => {
    const kv = message(item);
    if (typeof kv.key !== 'string') throw invalid(`Invalid value for parameter '${field}[${i}].key' supplied: expected a string`);
    if (kv.value === undefined || kv.value === null) throw invalid(`Missing value for required parameter '${field}[${i}].value'.`);
    return { key: kv.key, value: String(kv.value) };
  });
}

export function metricOf(item: unknown, where: string): MetricInput {
  const m = message(item);
  if (typeof m.key !== 'string') throw invalid(`Missing value for required parameter '${where}key'.`);
  return {
    key: m.key,
    value: double(m.value, `${where}value`),
    timestamp: optionalInt(m, 'timestamp') ?? Date.now(),
    step: optionalInt(m, 'step') ?? 0,
    ...(typeof m.model_id === 'string' && m.model_id ? { modelId: m.model_id } : {}),
  };
}

function stringField(body: Message, field: string, where: string, required: boolean): string | undefined {
  const value = body[field];
  if (value === undefined || value === null || value === '') {
    if (required) throw invalid(`Missing value for required parameter '${where}${field}'.`);
    return undefined;
  }
  if (typeof value !== 'string') throw invalid(`Invalid value ${JSON.stringify(value)} for parameter '${where}${field}' supplied: expected a string`);
  return value;
}

/** log-inputs' `datasets`: [{dataset: {name, digest, source_type, source, schema?, profile?}, tags?}]. */
export function datasetInputs(body: Message): DatasetInput[] {
  return list(body, 'datasets').map((item, i) => {
    const where = `datasets[${i}].dataset.`;
    const dataset = message(message(item).dataset);
    const schema = stringField(dataset, 'schema', where, false);
    const profile = stringField(dataset, 'profile', where, false);
    return {
      dataset: {
        name: stringField(dataset, 'name', where, true)!,
        digest: stringField(dataset, 'digest', where, true)!,
        sourceType: stringField(dataset, 'source_type', where, true)!,
        source: stringField(dataset, 'source', where, true)!,
        ...(schema !== undefined ? { schema } : {}),
        ...(profile !== undefined ? { profile } : {}),
      },
      tags: keyValues(message(item), 'tags').map((t, j) => {
        if (!t.key) throw invalid(`Missing value for required parameter 'datasets[${i}].tags[${j}].key'.`);
        return t;
      }),
    };
  });
}

/** `models`: [{model_id}] (log-inputs). */
export function modelIds(body: Message): string[] {
  return list(body, 'models').map((item, i) => stringField(message(item), 'model_id', `models[${i}].`, true)!);
}

/** runs/outputs' `models`: [{model_id, step}], at least one. */
export function modelOutputs(body: Message): ModelOutput[] {
  const models = list(body, 'models');
  if (models.length === 0) throw invalid("Missing value for required parameter 'models'.");
  return models.map((item, i) => ({
    modelId: stringField(message(item), 'model_id', `models[${i}].`, true)!,
    step: optionalInt(message(item), 'step') ?? 0,
  }));
}
