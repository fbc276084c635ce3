import { randomUUID } from 'node:crypto';
import type { EventBus } from '@mlops/bus';
import { createEvent, type EventEnvelope } from '@mlops/contracts';
import type { Feeds } from './batcher';
import { rowValues, type HostTensor } from './tensors';

export interface PredictionLogOptions {
  /** Share of rows logged, 0..1. */
  sampleRate: number;
  /** Most rows waiting to be published; beyond that rows are dropped (and counted). */
  capacity: number;
  /** Events per bus.publish call. */
  chunk?: number;
  random?: () => number;
  logger?: { warn(message: string): void };
}

export interface PredictionLogStats {
  /** rows published */
  published: number;
  /** rows dropped because the buffer was full */
  dropped: number;
  /** rows whose publish failed */
  failed: number;
  /** rows waiting */
  pending: number;
}

interface Entry {
  model: string;
  version: number;
  requestId: string;
  inputs: Feeds;
  outputs: Feeds;
  rows: number[];
  latencyMs: number;
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

/**
 * Publishes `prediction.logged`, one event per sampled row, off the response path: record()
 * only appends references to a bounded buffer; events are built and published in the
 * background. A full buffer drops rows and counts them rather than slowing responses.
 */
export class PredictionLog {
  private readonly buffer: Entry[] = [];
  private pendingRows = 0;
  private draining?: Promise<void>;
  private lastWarning = 0;
  readonly stats: PredictionLogStats = { published: 0, dropped: 0, failed: 0, pending: 0 };

  constructor(
    private readonly bus: EventBus,
    private readonly options: PredictionLogOptions,
  ) {}

  record(entry: Omit<Entry, 'rows'>, rowCount: number): void {
    const { sampleRate, capacity } = this.options;
    if (sampleRate <= 0 || rowCount === 0) return;
    const random = this.options.random ?? Math.random;
    const rows: number[] = [];
    for (let r = 0; r < rowCount; r++) if (sampleRate >= 1 || random() < sampleRate) rows.push(r);
    if (rows.length === 0) return;
    const room = capacity - this.pendingRows;
    if (room < rows.length) {
      this.stats.dropped += rows.length - Math.max(0, room);
      if (room <= 0) return;
      rows.length = room;
    }
    this.buffer.push({ ...entry, rows });
    this.pendingRows += rows.length;
    this.stats.pending = this.pendingRows;
    this.draining ??= new Promise<void>((r) => setImmediate(r)).then(() => this.drain()).finally(() => (this.draining = undefined));
  }

  private async drain(): Promise<void> {
    const chunk = this.options.chunk ?? 500;
    while (this.buffer.length > 0) {
      const events: EventEnvelope<'prediction.logged'>[] = [];
      while (this.buffer.length > 0 && events.length < chunk) {
        const entry = this.buffer.shift()!;
        for (const row of entry.rows) {
          try {
            events.push(this.event(entry, row));
          } catch (error) {
            this.stats.failed++;
            this.warn(`prediction.logged not built: ${(error as Error).message}`);
          }
        }
        this.pendingRows -= entry.rows.length;
      }
      try {
        if (events.length > 0) await this.bus.publish(events);
        this.stats.published += events.length;
      } catch (error) {
        this.stats.failed += events.length;
        this.warn(`${events.length} prediction.logged events not published: ${(error as Error).message}`);
      }
      this.stats.pending = this.pendingRows;
    }
  }

  private event(entry: Entry, row: number): EventEnvelope<'prediction.logged'> {
    return createEvent('prediction.logged', {
      source: 'serving',
      subject: entry.model,
      data: {
        predictionId: entry.requestId ? `${entry.requestId}:${row}` : randomUUID(),
        model: entry.model,
        version: entry.version,
        inputs: flatten(entry.inputs, row),
        outputs: Object.fromEntries(Object.entries(entry.outputs).map(([name, t]) => [name, outputRow(t, row)])),
        latencyMs: entry.latencyMs,
        requestKey: entry.requestId || undefined,
      },
    });
  }

  private warn(message: string): void {
    const now = Date.now();
    if (now - this.lastWarning < 10_000) return;
    this.lastWarning = now;
    this.options.logger?.warn(message);
  }

  /** Waits (at most timeoutMs) for what is buffered to be published. */
  async flush(timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((this.draining || this.buffer.length > 0) && Date.now() < deadline) {
      await Promise.race([this.draining ?? Promise.resolve(), new Promise((r) => setTimeout(r, 50))]);
    }
  }
}
