import { randomUUID } from 'node:crypto';
import { EVENT_HEADERS, type OutgoingMessage } from '@mlops/bus';
import { createEvent, type EventEnvelope } from '@mlops/contracts';
import type { Feeds } from './batcher';
import { elementCount, rowValues, type HostTensor } from './tensors';

const TYPE = 'prediction.logged';
const SOURCE = 'serving';

/** One request's rows to log: the tensors the server decoded and the model returned. */
export interface PredictionBatch {
  model: string;
  version: number;
  /** The request's `id`; empty when the client sent none. */
  requestId: string;
  inputs: Feeds;
  outputs: Feeds;
  latencyMs: number;
  /** The request's trace context (W3C), so the monitor's span continues the request's trace. */
  traceparent?: string;
}

/** Row values keyed `<tensor>` (one value per row) or `<tensor>[i]`. */
function flatten(tensors: Feeds, row: number): Record<string, number | string | boolean> {
  const out: Record<string, number | string | boolean> = {};
  for (const [name, t] of Object.entries(tensors)) {
    const values = rowValues(t, row);
    if (values.length === 1) out[name] = values[0];
    else values.forEach((v, i) => (out[`${name}[${i}]`] = v));
  }
  return out;
}

function outputRow(t: HostTensor, row: number): number | number[] | string {
  const values = rowValues(t, row).map((v) => (typeof v === 'boolean' ? Number(v) : v));
  if (values.length === 1) return values[0];
  return values.map(Number);
}

const predictionId = (batch: PredictionBatch, row: number) => (batch.requestId ? `${batch.requestId}:${row}` : randomUUID());

/** The reference: one row through createEvent, i.e. checked by the contract's zod schema. */
export function validatedPredictionEvent(batch: PredictionBatch, row: number): EventEnvelope<'prediction.logged'> {
  return createEvent(TYPE, {
    source: SOURCE,
    subject: batch.model,
    data: {
      predictionId: predictionId(batch, row),
      model: batch.model,
      version: batch.version,
      inputs: flatten(batch.inputs, row),
      outputs: Object.fromEntries(Object.entries(batch.outputs).map(([name, t]) => [name, outputRow(t, row)])),
      latencyMs: batch.latencyMs,
      requestKey: batch.requestId || undefined,
    },
  });
}

/** JSON of one element as the contract takes it, or undefined when it would break the contract (NaN, Infinity). */
function jsonValue(t: HostTensor, i: number, boolAsNumber: boolean): string | undefined {
  const v = t.data[i];
  if (typeof v === 'string') return JSON.stringify(v);
  if (t.datatype === 'BOOL') return boolAsNumber ? (v !== 0 ? '1' : '0') : v !== 0 ? 'true' : 'false';
  const n = typeof v === 'bigint' ? Number(v) : v;
  // For finite numbers String(n) is exactly what JSON.stringify writes.
  return Number.isFinite(n) ? String(n) : undefined;
}

/** `,"<tensor>":` or `,"<tensor>[i]":` for each element of a row, cached per name and row size. */
const keyCache = new Map<string, string[]>();
function rowKeys(name: string, size: number): string[] {
  const id = `${size}\u0000${name}`;
  let keys = keyCache.get(id);
  if (!keys) {
    keys = size === 1 ? [`,${JSON.stringify(name)}:`] : Array.from({ length: size }, (_, i) => `,${JSON.stringify(`${name}[${i}]`)}:`);
    if (keyCache.size < 10_000) keyCache.set(id, keys);
  }
  return keys;
}

/** A tensor of the current request with what every row reuses: elements per row and their JSON keys. */
interface Column {
  tensor: HostTensor;
  size: number;
  keys: string[];
  /** Float or 8-32 bit integer data: numbers to write as they are. */
  plain: boolean;
}

const NOT_PLAIN = new Set(['BOOL', 'BYTES', 'INT64', 'UINT64']);

const columns = (tensors: Feeds, perElementKeys: boolean): Column[] =>
  Object.entries(tensors).map(([name, tensor]) => {
    const size = elementCount(tensor.shape.slice(1));
    return { tensor, size, keys: rowKeys(name, perElementKeys ? size : 1), plain: !NOT_PLAIN.has(tensor.datatype) };
  });

/** Every key carries a leading comma; the first one is cut at the end. */
function inputsJson(inputs: Column[], row: number): string | undefined {
  let out = '';
  for (const { tensor, size, keys, plain } of inputs) {
    if (plain) {
      const data = tensor.data as Float32Array;
      for (let i = 0, at = row * size; i < size; i++, at++) {
        const n = data[at];
        // NaN and ±Infinity are the numbers for which n - n is not 0; the contract rejects them.
        if (n - n !== 0) return undefined;
        out += keys[i] + n;
      }
      continue;
    }
    for (let i = 0, at = row * size; i < size; i++, at++) {
      const value = jsonValue(tensor, at, false);
      if (value === undefined) return undefined;
      out += keys[i] + value;
    }
  }
  return `{${out.slice(1)}}`;
}

function outputsJson(outputs: Column[], row: number): string | undefined {
  let out = '';
  for (const { tensor, size, keys } of outputs) {
    out += keys[0];
    if (size === 1) {
      const value = jsonValue(tensor, row, true);
      if (value === undefined) return undefined;
      out += value;
      continue;
    }
    out += '[';
    for (let i = 0, at = row * size; i < size; i++, at++) {
      // A multi-element output row is a number array: strings become numbers, as validatedPredictionEvent does.
      const v = tensor.data[at];
      const value = typeof v === 'string' ? (Number.isFinite(Number(v)) ? String(Number(v)) : undefined) : jsonValue(tensor, at, true);
      if (value === undefined) return undefined;
      out += (i === 0 ? '' : ',') + value;
    }
    out += ']';
  }
  return `{${out.slice(1)}}`;
}

/**
 * Builds prediction.logged messages straight as JSON, without a zod pass per row: the values
 * come from tensors the server decoded and checked itself, and the writer keeps to the
 * contract (finite numbers, strings, booleans). A row it cannot write that way (a NaN or
 * Infinity) goes through validatedPredictionEvent, which rejects it with the contract's error.
 * The spec checks both paths give the same events.
 */
export class PredictionMessageWriter {
  private batch?: PredictionBatch;
  private inputs: Column[] = [];
  private outputs: Column[] = [];
  private head = '';
  private tail = '';
  private modelJson = '""';
  private headTime = Number.NaN;
  private headModel = '';

  /** Starts a request: what every row of it shares is written once. */
  begin(batch: PredictionBatch, time = new Date()): void {
    this.batch = batch;
    this.inputs = columns(batch.inputs, true);
    this.outputs = columns(batch.outputs, false);
    // Consecutive requests of one model logged in the same millisecond share the head.
    const ms = time.getTime();
    if (ms !== this.headTime || batch.model !== this.headModel) {
      const model = JSON.stringify(batch.model);
      this.head = `","type":"${TYPE}","time":"${time.toISOString()}","source":"${SOURCE}","subject":${model},"correlationId":"`;
      this.modelJson = model;
      this.headTime = ms;
      this.headModel = batch.model;
    }
    this.tail =
      `,"latencyMs":${batch.latencyMs}` + (batch.requestId ? `,"requestKey":${JSON.stringify(batch.requestId)}` : '') + '}}';
  }

  /** The message for one row of the current request. */
  row(row: number): OutgoingMessage {
    const batch = this.batch;
    if (!batch) throw new Error('PredictionMessageWriter.row before begin');
    const inputs = inputsJson(this.inputs, row);
    const outputs = inputs === undefined ? undefined : outputsJson(this.outputs, row);
    if (inputs === undefined || outputs === undefined) {
      const event = validatedPredictionEvent(batch, row);
      return message(event.id, batch.model, JSON.stringify(event), batch.traceparent);
    }
    const id = randomUUID();
    const value =
      `{"id":"${id}${this.head}${id}","data":{"predictionId":${JSON.stringify(predictionId(batch, row))},` +
      `"model":${this.modelJson},"version":${batch.version},"inputs":${inputs},"outputs":${outputs}${this.tail}`;
    return message(id, batch.model, value, batch.traceparent);
  }
}

function message(id: string, model: string, value: string, traceparent?: string): OutgoingMessage {
  const headers: Record<string, string> = { [EVENT_HEADERS.id]: id, [EVENT_HEADERS.type]: TYPE, [EVENT_HEADERS.correlationId]: id };
  // Published later, in batches, outside the request: the request's context rides along here.
  if (traceparent) headers.traceparent = traceparent;
  return { topic: TYPE, key: model, value, headers };
}
