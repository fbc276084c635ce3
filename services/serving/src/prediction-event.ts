import { randomUUID } from 'node:crypto';
import { EVENT_HEADERS, type OutgoingMessage } from '@mlops/bus';
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
  /** The request's trace context (W3C), so the monitor's span continues the request's trace. */
  traceparent?: string;
}

const tensorsOf = (feeds: Feeds): HostTensorInput[] => Object.entries(feeds).map(([name, t]) => ({ name, ...t }));

/** A row's prediction id: `<request id>:<row>`, or a random one when the request had no id. */
const predictionId = (batch: PredictionBatch, row: number) => (batch.requestId ? `${batch.requestId}:${row}` : randomUUID());

function payloadInput(batch: PredictionBatch, rows: number[]): PredictionTensorsInput {
  return {
    model: batch.model,
    version: batch.version,
    requestKey: batch.requestId || undefined,
    latencyMs: batch.latencyMs,
    predictionIds: rows.map((row) => predictionId(batch, row)),
    rows,
    inputs: tensorsOf(batch.inputs),
    outputs: tensorsOf(batch.outputs),
  };
}

/** The reference: the same event through createEvent, i.e. checked by the contract's zod schema. */
export function validatedPredictionEvent(batch: PredictionBatch, rows: number[]): EventEnvelope<'prediction.logged'> {
  return createEvent(TYPE, { source: SOURCE, subject: batch.model, data: encodePredictionTensors(payloadInput(batch, rows)) });
}

/**
 * The prediction.logged (v2) message of one request: its tensors as they are in memory
 * (little-endian, base64 through the contract's codec), the sampled rows and their ids. No
 * zod pass: the tensors are the server's own, decoded and checked against the model's
 * signature (the spec holds this to validatedPredictionEvent for every datatype).
 */
export function predictionMessage(batch: PredictionBatch, rows: number[], time = new Date()): OutgoingMessage {
  const id = randomUUID();
  const event = {
    id,
    type: TYPE,
    time: time.toISOString(),
    source: SOURCE,
    subject: batch.model,
    correlationId: id,
    data: encodePredictionTensors(payloadInput(batch, rows)),
  };
  const headers: Record<string, string> = { [EVENT_HEADERS.id]: id, [EVENT_HEADERS.type]: TYPE, [EVENT_HEADERS.correlationId]: id };
  // Published later, in batches, outside the request: the request's context rides along here.
  if (batch.traceparent) headers.traceparent = batch.traceparent;
  return { topic: TYPE, key: batch.model, value: JSON.stringify(event), headers };
}
