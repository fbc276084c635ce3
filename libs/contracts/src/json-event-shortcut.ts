// A shortcut past zod for the high-volume events (prediction.logged v1 and v2, label.observed), which
// the monitor decodes tens of thousands of times a second: a hand-written check that accepts
// a value only when the zod schemas of envelope.ts and payloads.ts certainly accept it, and
// then returns what zod would return. Anything else (an invalid value, an undeclared field
// zod would strip, another event type) gets `undefined`, and the caller runs zod as before,
// so errors and every other outcome are zod's. json-event-shortcut.spec.ts holds both paths
// to the same result over a sweep of valid and broken events.
import { z } from 'zod';
import type { AnyEvent } from './envelope';
import { PREDICTION_TENSORS_VERSION, predictionTensorsIssues, TENSOR_DATATYPES, type TensorDatatype, type WireTensor } from './prediction-tensors';

/** The patterns behind the envelope's z.uuid() and z.iso.datetime({ offset: true }). */
const UUID = z.regexes.uuid();
const DATETIME_WITH_OFFSET = z.regexes.datetime({ offset: true, local: false, precision: null });

type JsonObject = Record<string, unknown>;

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isText = (v: unknown, max = Infinity): v is string => typeof v === 'string' && v.length >= 1 && v.length <= max;
/** payloads.ts's `name`: 1 to 200 characters. */
const isName = (v: unknown): v is string => isText(v, 200);

/** Own keys; with every declared field checked, a count above theirs means an undeclared one. */
function keyCount(o: JsonObject): number {
  let n = 0;
  for (const key in o) if (Object.hasOwn(o, key)) n++;
  return n;
}

/**
 * Every value of a record satisfies `valid`. JSON.parse makes "__proto__" an ordinary own
 * key, which zod's rebuilt record drops, so such a record is left to zod.
 */
function everyValue(o: unknown, valid: (v: unknown) => boolean): o is JsonObject {
  if (!isObject(o)) return false;
  for (const key in o) if (key === '__proto__' || !valid(o[key])) return false;
  return true;
}

/** payloads.ts's `scalar`: number, string, boolean or null. */
const isScalar = (v: unknown): boolean => v === null || typeof v === 'string' || typeof v === 'boolean' || isNumber(v);

/** prediction.logged `outputs` values: number, number[] or string. */
function isOutput(v: unknown): boolean {
  if (typeof v === 'string' || isNumber(v)) return true;
  if (!Array.isArray(v)) return false;
  for (let k = 0; k < v.length; k++) if (!isNumber(v[k])) return false;
  return true;
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const DATATYPES = new Set<unknown>(TENSOR_DATATYPES);

/** A v2 wire tensor, rebuilt in the schema's key order; undefined when it is not certainly one. */
function wireTensor(t: unknown): WireTensor | undefined {
  if (!isObject(t)) return undefined;
  const { name, datatype, shape, data, featureNames } = t;
  if (keyCount(t) !== (featureNames === undefined ? 4 : 5)) return undefined;
  if (!isName(name) || !DATATYPES.has(datatype) || !Array.isArray(shape) || typeof data !== 'string') return undefined;
  for (let k = 0; k < shape.length; k++) if (!isCount(shape[k])) return undefined;
  const tensor: WireTensor = { name, datatype: datatype as TensorDatatype, shape, data };
  if (featureNames === undefined) return tensor;
  if (!Array.isArray(featureNames)) return undefined;
  for (let k = 0; k < featureNames.length; k++) if (!isName(featureNames[k])) return undefined;
  tensor.featureNames = featureNames as string[];
  return tensor;
}

function wireTensors(list: unknown, min: number): WireTensor[] | undefined {
  if (!Array.isArray(list) || list.length < min) return undefined;
  const out: WireTensor[] = [];
  for (const t of list) {
    const tensor = wireTensor(t);
    if (!tensor) return undefined;
    out.push(tensor);
  }
  return out;
}

/** prediction.logged v2: field types here, sizes and rows by the codec's own check (the schema's superRefine). */
function predictionTensors(d: JsonObject): JsonObject | undefined {
  const { model, version, requestKey, shadow, latencyMs, predictionIds, rows } = d;
  if (keyCount(d) !== 8 + (requestKey === undefined ? 0 : 1) + (shadow === undefined ? 0 : 1)) return undefined;
  if (shadow !== undefined && shadow !== true) return undefined;
  if (!isName(model) || !Number.isSafeInteger(version) || (version as number) <= 0) return undefined;
  if (!isNumber(latencyMs) || latencyMs < 0 || (requestKey !== undefined && typeof requestKey !== 'string')) return undefined;
  if (!Array.isArray(predictionIds) || !Array.isArray(rows)) return undefined;
  for (let k = 0; k < predictionIds.length; k++) if (!isText(predictionIds[k])) return undefined;
  for (let k = 0; k < rows.length; k++) if (!isCount(rows[k])) return undefined;
  const inputs = wireTensors(d.inputs, 1);
  const outputs = wireTensors(d.outputs, 0);
  if (!inputs || !outputs || predictionTensorsIssues({ inputs, outputs, rows, predictionIds }).length > 0) return undefined;
  const data: JsonObject = { schemaVersion: PREDICTION_TENSORS_VERSION, model, version };
  if (requestKey !== undefined) data.requestKey = requestKey;
  if (shadow !== undefined) data.shadow = shadow;
  Object.assign(data, { latencyMs, predictionIds, rows, inputs, outputs });
  return data;
}

/** The payload objects in zod's output key order (the schema's), or undefined. */
const payloadShortcuts: Partial<Record<AnyEvent['type'], (data: unknown) => JsonObject | undefined>> = {
  'prediction.logged': (d) => {
    if (!isObject(d)) return undefined;
    if (d.schemaVersion === PREDICTION_TENSORS_VERSION) return predictionTensors(d);
    const { predictionId, model, version, inputs, outputs, latencyMs, requestKey } = d;
    if (keyCount(d) !== (requestKey === undefined ? 6 : 7)) return undefined;
    if (!isText(predictionId) || !isName(model) || !Number.isSafeInteger(version) || (version as number) <= 0) return undefined;
    if (!isNumber(latencyMs) || latencyMs < 0 || (requestKey !== undefined && typeof requestKey !== 'string')) return undefined;
    if (!everyValue(inputs, isScalar) || !everyValue(outputs, isOutput)) return undefined;
    const data: JsonObject = { predictionId, model, version, inputs, outputs, latencyMs };
    if (requestKey !== undefined) data.requestKey = requestKey;
    return data;
  },
  'label.observed': (d) => {
    if (!isObject(d)) return undefined;
    const { predictionId, model, label } = d;
    if (keyCount(d) !== (model === undefined ? 2 : 3)) return undefined;
    if (!isText(predictionId) || (model !== undefined && !isName(model)) || !(typeof label === 'string' || isNumber(label))) return undefined;
    const data: JsonObject = { predictionId };
    if (model !== undefined) data.model = model;
    data.label = label;
    return data;
  },
};

/**
 * The event zod would return for this value, when the value is a prediction.logged or
 * label.observed event that certainly satisfies the contract and has no undeclared field;
 * otherwise undefined (then zod must decide). Only for the output of JSON.parse: plain
 * objects with own enumerable string keys and no undefined, NaN or Infinity.
 */
export function acceptJsonEvent(value: unknown): AnyEvent | undefined {
  if (!isObject(value)) return undefined;
  const { id, type, time, source, subject, correlationId } = value;
  const payload = typeof type === 'string' && Object.hasOwn(payloadShortcuts, type) ? payloadShortcuts[type as AnyEvent['type']] : undefined;
  if (!payload || keyCount(value) !== 7) return undefined;
  if (typeof id !== 'string' || !UUID.test(id) || typeof time !== 'string' || !DATETIME_WITH_OFFSET.test(time)) return undefined;
  if (!isText(source) || !isText(subject) || !isText(correlationId)) return undefined;
  const data = payload(value.data);
  if (!data) return undefined;
  return { id, type, time, source, subject, correlationId, data } as AnyEvent;
}
