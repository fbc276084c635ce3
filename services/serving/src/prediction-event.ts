import { randomUUID } from 'node:crypto';
import { EVENT_HEADERS, type OutgoingMessage } from '@mlops/bus';
import { createEvent, type EventEnvelope } from '@mlops/contracts';
import type { Feeds } from './batcher';
import { JsonBytes } from './json-bytes';
import { elementCount, halfToNumber, rowValues, type HostTensor } from './tensors';

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

/** JSON of a BOOL, BYTES or 64-bit integer element as the contract takes it. */
function jsonValue(t: HostTensor, i: number, boolAsNumber: boolean): string {
  const v = t.data[i];
  if (typeof v === 'string') return JSON.stringify(v);
  if (t.datatype === 'BOOL') return boolAsNumber ? (v !== 0 ? '1' : '0') : v !== 0 ? 'true' : 'false';
  return String(v);
}

/** `,"<tensor>":` or `,"<tensor>[i]":` for each element of a row as UTF-8, cached per name and row size. */
const keyCache = new Map<string, Buffer[]>();
function rowKeys(name: string, size: number): Buffer[] {
  const id = `${size}\u0000${name}`;
  let keys = keyCache.get(id);
  if (!keys) {
    const text = size === 1 ? [`,${JSON.stringify(name)}:`] : Array.from({ length: size }, (_, i) => `,${JSON.stringify(`${name}[${i}]`)}:`);
    keys = text.map((key) => Buffer.from(key, 'utf8'));
    if (keyCache.size < 10_000) keyCache.set(id, keys);
  }
  return keys;
}

/** How an element is written: float32 digits, FP16 bits decoded first, other numbers, or jsonValue. */
type Kind = 'float32' | 'half' | 'number' | 'other';

const kindOf = (datatype: HostTensor['datatype']): Kind =>
  datatype === 'FP32' ? 'float32' : datatype === 'FP16' ? 'half' : OTHER.has(datatype) ? 'other' : 'number';
const OTHER = new Set(['BOOL', 'BYTES', 'INT64', 'UINT64']);

/** A tensor of the current request with what every row reuses: elements per row and their JSON keys. */
interface Column {
  tensor: HostTensor;
  size: number;
  keys: Buffer[];
  kind: Kind;
}

const columns = (tensors: Feeds, perElementKeys: boolean): Column[] =>
  Object.entries(tensors).map(([name, tensor]) => {
    const size = elementCount(tensor.shape.slice(1));
    return { tensor, size, keys: rowKeys(name, perElementKeys ? size : 1), kind: kindOf(tensor.datatype) };
  });

/**
 * Inputs keep booleans and strings; outputs write booleans as 0/1, and inside an output array
 * strings become numbers, as validatedPredictionEvent does.
 */
type Style = 'input' | 'output' | 'output-array';

/** Writes element i of a column; false when the contract cannot take it (NaN, ±Infinity). */
function writeElement(out: JsonBytes, column: Column, i: number, style: Style): boolean {
  const v = column.tensor.data[i];
  let n: number;
  switch (column.kind) {
    case 'float32':
    case 'half':
      n = column.kind === 'half' ? halfToNumber(v as number) : (v as number);
      // NaN and ±Infinity are the numbers for which n - n is not 0.
      if (n - n !== 0) return false;
      out.float32(n);
      return true;
    case 'number':
      n = v as number;
      if (n - n !== 0) return false;
      // For finite numbers String(n) is exactly what JSON.stringify writes.
      out.ascii(String(n));
      return true;
    default:
      if (style === 'output-array' && typeof v === 'string') {
        n = Number(v);
        if (n - n !== 0) return false;
        out.ascii(String(n));
        return true;
      }
      out.text(jsonValue(column.tensor, i, style !== 'input'));
      return true;
  }
}

/** `{"<key>":<value>,...}` of one row's inputs; false when an element cannot be written. */
function writeInputs(out: JsonBytes, inputs: Column[], row: number): boolean {
  out.ascii('{');
  let first = true;
  for (const column of inputs) {
    const { size, keys } = column;
    if (column.kind === 'float32') {
      if (!out.keyedFloat32s(keys, column.tensor.data as Float32Array, row * size, size, first)) return false;
      first &&= size === 0;
      continue;
    }
    for (let i = 0, at = row * size; i < size; i++, at++) {
      // Every key carries a leading comma; the first key is written without it.
      if (first) {
        out.bytes(keys[i].subarray(1));
        first = false;
      } else out.bytes(keys[i]);
      if (!writeElement(out, column, at, 'input')) return false;
    }
  }
  out.ascii('}');
  return true;
}

function writeOutputs(out: JsonBytes, outputs: Column[], row: number): boolean {
  out.ascii('{');
  let first = true;
  for (const column of outputs) {
    out.bytes(first ? column.keys[0].subarray(1) : column.keys[0]);
    first = false;
    const { size } = column;
    if (size === 1) {
      if (!writeElement(out, column, row, 'output')) return false;
      continue;
    }
    out.ascii('[');
    for (let i = 0, at = row * size; i < size; i++, at++) {
      if (i > 0) out.ascii(',');
      if (!writeElement(out, column, at, 'output-array')) return false;
    }
    out.ascii(']');
  }
  out.ascii('}');
  return true;
}

/**
 * Builds prediction.logged messages straight as JSON bytes, without a zod pass per row: the
 * values come from tensors the server decoded and checked itself, and the writer keeps to the
 * contract (finite numbers, strings, booleans). Float32 values are written as the shortest
 * decimal that reads back as the same float32 (float32-decimal.ts), as rowValues gives them
 * to the reference. A row it cannot write that way (a NaN or Infinity) goes through
 * validatedPredictionEvent, which rejects it with the contract's error. The spec checks both
 * paths give the same events.
 */
export class PredictionMessageWriter {
  private readonly out = new JsonBytes();
  private batch?: PredictionBatch;
  private inputs: Column[] = [];
  private outputs: Column[] = [];
  private head = '';
  private middle = '';
  private tail = '';
  private predictionIdHead = '';
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
    // `"<request id>:` without its closing quote: the row number and the quote follow (neither needs escaping).
    this.predictionIdHead = batch.requestId ? `${JSON.stringify(batch.requestId).slice(0, -1)}:` : '';
    this.middle = `,"model":${this.modelJson},"version":${batch.version},"inputs":`;
    this.tail =
      `,"latencyMs":${batch.latencyMs}` + (batch.requestId ? `,"requestKey":${JSON.stringify(batch.requestId)}` : '') + '}}';
  }

  /** The message for one row of the current request. */
  row(row: number): OutgoingMessage {
    const batch = this.batch;
    if (!batch) throw new Error('PredictionMessageWriter.row before begin');
    const out = this.out;
    const id = randomUUID();
    out.ascii('{"id":"').ascii(id).text(this.head).ascii(id).ascii('","data":{"predictionId":');
    if (this.predictionIdHead) out.text(this.predictionIdHead).ascii(`${row}"`);
    else out.ascii(`"${randomUUID()}"`);
    out.text(this.middle);
    const written = writeInputs(out, this.inputs, row) && (out.ascii(',"outputs":'), writeOutputs(out, this.outputs, row));
    if (!written) {
      out.discard();
      const event = validatedPredictionEvent(batch, row);
      return message(event.id, batch.model, JSON.stringify(event), batch.traceparent);
    }
    out.text(this.tail);
    return message(id, batch.model, out.take(), batch.traceparent);
  }
}

function message(id: string, model: string, value: Buffer | string, traceparent?: string): OutgoingMessage {
  const headers: Record<string, string> = { [EVENT_HEADERS.id]: id, [EVENT_HEADERS.type]: TYPE, [EVENT_HEADERS.correlationId]: id };
  // Published later, in batches, outside the request: the request's context rides along here.
  if (traceparent) headers.traceparent = traceparent;
  return { topic: TYPE, key: model, value, headers };
}
