import { InvalidInputError } from '@mlops/errors';
import { invalid } from '@mlops/http';
import type { KeyValue } from '../catalog/catalog.types';

/** Reading MLflow request messages: protobuf JSON sends int64 as numbers or strings. */
export type Message = Record<string, unknown>;

export function message(value: unknown): Message {
  return value && typeof value === 'object' && !Array.isArray(value) && !Buffer.isBuffer(value) ? (value as Message) : {};
}

export function requiredString(body: Message, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') throw invalid(`Missing value for required parameter '${field}'.`);
  return value;
}

export function optionalString(body: Message, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw invalid(`Invalid value ${JSON.stringify(value)} for parameter '${field}' supplied: expected a string`);
  return value;
}

/** A required field that MLflow sends as a string but protobuf JSON may send as a number. */
export function requiredScalar(body: Message, field: string): string {
  const value = body[field];
  if (typeof value === 'number') return String(value);
  return requiredString(body, field);
}

export function optionalInt(body: Message, field: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw invalid(`Invalid value ${JSON.stringify(value)} for parameter '${field}' supplied: expected a positive integer`);
  return n;
}

export function keyValues(body: Message, field: string): KeyValue[] {
  const value = body[field];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(`Invalid value for parameter '${field}' supplied: expected a list`);
  return value.map((item, i) => {
    const kv = message(item);
    if (typeof kv.key !== 'string' || !kv.key) throw invalid(`Invalid value for parameter '${field}[${i}].key' supplied: expected a string`);
    if (kv.value === undefined || kv.value === null) throw invalid(`Missing value for required parameter '${field}[${i}].value'.`);
    return { key: kv.key, value: String(kv.value) };
  });
}

/** A JSON object of finite numbers, e.g. `{"accuracy": 0.9}`. */
export function metricsOf(value: unknown, field: string): Record<string, number> | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw invalid(`${field} is not valid JSON`);
    }
  }
  const object = message(parsed);
  for (const [key, v] of Object.entries(object)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`${field}.${key} must be a finite number`);
  }
  return object as Record<string, number>;
}

/** `order_by` as a JSON body sends it (an array) or a query string does (one value or repeated). */
export function orderByParam(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((v): v is string => typeof v === 'string')) {
    throw InvalidInputError.of([{ field: 'order_by', message: 'expected a list of strings like "version_number DESC"' }]);
  }
  return list;
}
