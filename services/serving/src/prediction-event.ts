import { randomUUID } from 'node:crypto';
import { EVENT_HEADERS, Utf8Slab, type OutgoingMessage } from '@mlops/bus';
import { createEvent, encodePredictionTensors, type EventEnvelope, type HostTensorInput, type PredictionTensorsInput } from '@mlops/contracts';
import type { Feeds } from './batcher';

const TYPE = 'prediction.logged';
const SOURCE = 'serving';

/** One request's tensors to log: those the server decoded and those the model returned. */
export interface PredictionBatch {
  model: string;
  version: number;
  /** The request's `id`; empty when the client sent none. */
  requestId: string;
  inputs: Feeds;
  outputs: Feeds;
  latencyMs: number;
  /** The names of the columns of the model's one input (its ONNX metadata), when it has them. */
  featureNames?: readonly string[];
  /** The request's trace context (W3C), so the monitor's span continues the request's trace. */
  traceparent?: string;
  /** A shadow version's answer (logged, never returned). */
  shadow?: boolean;
}

/** Adds a leading batch dimension of 1 (for logging a model that does not batch). */
export const asOneRow = (feeds: Feeds): Feeds => Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, { ...t, shape: [1, ...t.shape] }]));

const tensorsOf = (feeds: Feeds): HostTensorInput[] => Object.entries(feeds).map(([name, t]) => ({ name, ...t }));

/** The input tensors, the model's one input with its feature names when they name its row's elements. */
function inputTensorsOf(batch: PredictionBatch): HostTensorInput[] {
  const tensors = tensorsOf(batch.inputs);
  const names = batch.featureNames;
  if (!names || tensors.length !== 1) return tensors;
  const [input] = tensors;
  // A model whose column dimension is dynamic may get rows of another width: those stay positional.
  if (input.shape.length < 2 || input.shape.slice(1).reduce((n, d) => n * d, 1) !== names.length) return tensors;
  return [{ ...input, featureNames: names }];
}

/** A row's prediction id: `<request id>:<row>`, or a random one when the request had no id. */
const predictionId = (batch: PredictionBatch, row: number) => (batch.requestId ? `${batch.requestId}:${row}` : randomUUID());

/** `offset`: the request row of the batch's first row (a part of a split request). */
function payloadInput(batch: PredictionBatch, rows: number[], offset = 0): PredictionTensorsInput {
  return {
    model: batch.model,
    version: batch.version,
    requestKey: batch.requestId || undefined,
    shadow: batch.shadow,
    latencyMs: batch.latencyMs,
    predictionIds: rows.map((row) => predictionId(batch, row + offset)),
    rows,
    inputs: inputTensorsOf(batch),
    outputs: tensorsOf(batch.outputs),
  };
}

/** The reference: the same event through createEvent, i.e. checked by the contract's zod schema. */
export function validatedPredictionEvent(batch: PredictionBatch, rows: number[]): EventEnvelope<'prediction.logged'> {
  return createEvent(TYPE, { source: SOURCE, subject: batch.model, data: encodePredictionTensors(payloadInput(batch, rows)) });
}

/** Where the events' bytes are written (a 100-row event is about 20 KB). */
const slab = new Utf8Slab();

/**
 * The prediction.logged (v2) message of one request: its tensors as they are in memory
 * (little-endian, base64 through the contract's codec), the sampled rows and their ids. No
 * zod pass: the tensors are the server's own, decoded and checked against the model's
 * signature (the spec holds this to validatedPredictionEvent for every datatype).
 */
export function predictionMessage(batch: PredictionBatch, rows: number[], time = new Date(), offset = 0): OutgoingMessage {
  const id = randomUUID();
  const event = {
    id,
    type: TYPE,
    time: time.toISOString(),
    source: SOURCE,
    subject: batch.model,
    correlationId: id,
    data: encodePredictionTensors(payloadInput(batch, rows, offset)),
  };
  const headers: Record<string, string> = { [EVENT_HEADERS.id]: id, [EVENT_HEADERS.type]: TYPE, [EVENT_HEADERS.correlationId]: id };
  // Published later, in batches, outside the request: the request's context rides along here.
  if (batch.traceparent) headers.traceparent = batch.traceparent;
  return { topic: TYPE, key: batch.model, value: slab.encode(JSON.stringify(event)), headers };
}

/**
 * Largest event, in bytes of tensor data before base64 (4/3 of it after): under Kafka's
 * default message size of 1 MB with room for the envelope, ids and headers.
 */
export const MAX_EVENT_TENSOR_BYTES = 640 * 1024;

const rowsOf = (feeds: Feeds) => Object.values(feeds)[0]?.shape[0] ?? 0;

/** Bytes of the batch's tensor data (BYTES: UTF-8 plus the 4-byte length of each element). */
function tensorBytes(feeds: Feeds): number {
  let n = 0;
  for (const t of Object.values(feeds)) n += Array.isArray(t.data) ? t.data.reduce((s, v) => s + 4 + Buffer.byteLength(v), 0) : t.data.byteLength;
  return n;
}

/** Rows [start, end) of every tensor: typed data as views (no copy), BYTES as a slice. */
function sliceRows(feeds: Feeds, start: number, end: number): Feeds {
  const out: Feeds = {};
  for (const [name, t] of Object.entries(feeds)) {
    const size = t.shape.slice(1).reduce((a, d) => a * d, 1);
    const data = Array.isArray(t.data) ? t.data.slice(start * size, end * size) : t.data.subarray(start * size, end * size);
    out[name] = { ...t, shape: [end - start, ...t.shape.slice(1)], data };
  }
  return out;
}

/**
 * The prediction.logged messages of one request: one, or for a request whose tensors exceed
 * `maxBytes` one per run of rows that fits (each a complete v2 event of those rows, with the
 * request's own row numbers in its prediction ids). Runs with no sampled row are skipped.
 */
export function predictionMessages(batch: PredictionBatch, rows: number[], time = new Date(), maxBytes = MAX_EVENT_TENSOR_BYTES): OutgoingMessage[] {
  const rowCount = rowsOf(batch.inputs);
  const bytes = tensorBytes(batch.inputs) + tensorBytes(batch.outputs);
  if (bytes <= maxBytes || rowCount <= 1) return [predictionMessage(batch, rows, time)];
  const perEvent = Math.max(1, Math.floor(maxBytes / Math.ceil(bytes / rowCount)));
  const messages: OutgoingMessage[] = [];
  let next = 0;
  for (let start = 0; start < rowCount; start += perEvent) {
    const end = Math.min(rowCount, start + perEvent);
    const sampled: number[] = [];
    while (next < rows.length && rows[next] < end) sampled.push(rows[next++] - start);
    if (sampled.length === 0) continue;
    const part = { ...batch, inputs: sliceRows(batch.inputs, start, end), outputs: sliceRows(batch.outputs, start, end) };
    messages.push(predictionMessage(part, sampled, time, start));
  }
  return messages;
}
