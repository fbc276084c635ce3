import { InvalidInputError } from '@mlops/errors';
import type { KeyValue } from './run';

/** MLflow's limits on what one request may log and on key and value sizes. */
export const LIMITS = {
  metricsPerBatch: 1000,
  paramsPerBatch: 100,
  tagsPerBatch: 100,
  entitiesPerBatch: 1000,
  keyLength: 250,
  paramValueLength: 6000,
  tagValueLength: 8000,
  maxSearchResults: 50_000,
  defaultSearchResults: 1000,
};

const KEY_PATTERN = /^[\p{L}\p{N}_/.\- :]+$/u;

export function validateKey(kind: string, key: unknown): string {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidInputError(`${kind} key must be a non-empty string`);
  if (key.length > LIMITS.keyLength) throw new InvalidInputError(`${kind} key "${key.slice(0, 40)}..." is longer than ${LIMITS.keyLength} characters`);
  if (!KEY_PATTERN.test(key)) {
    throw new InvalidInputError(`invalid ${kind} name "${key}": names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colons (:) and slashes (/)`);
  }
  if (key.split('/').some((part) => part === '..' || part === '.') || key.startsWith('/')) {
    throw new InvalidInputError(`invalid ${kind} name "${key}": it may not be an absolute path or contain "." or ".." segments`);
  }
  return key;
}

export function validateValue(kind: string, key: string, value: unknown, max: number): string {
  if (value === undefined || value === null) throw new InvalidInputError(`missing value for ${kind} "${key}"`);
  const text = String(value);
  if (text.length > max) throw new InvalidInputError(`${kind} "${key}" has a value of ${text.length} characters; the limit is ${max}`);
  return text;
}

/** One entry per key, the last one given winning. */
export function dedupe(items: KeyValue[]): KeyValue[] {
  return [...new Map(items.map((t) => [t.key, { key: t.key, value: String(t.value) }])).values()];
}
