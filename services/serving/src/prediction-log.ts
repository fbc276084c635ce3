import { setImmediate as nextTurn } from 'node:timers/promises';
import type { EventBus, OutgoingMessage } from '@mlops/bus';
import { predictionMessages, type PredictionBatch } from './prediction-event';

export interface PredictionLogOptions {
  /** Share of rows logged, 0..1. */
  sampleRate: number;
  /** Most rows waiting to be published; beyond that rows are dropped (and counted). */
  capacity: number;
  /** Events (requests) per bus publish call; the event loop gets a turn between calls. */
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

interface Entry extends PredictionBatch {
  rows: number[];
}

/**
 * Publishes `prediction.logged` (v2), one event per request holding its tensors and the
 * sampled row numbers, off the response path: record() only samples row numbers and appends
 * references to the request's tensors to a bounded buffer; after the response is handed to
 * gRPC (setImmediate) each request's event is built (predictionMessage: the tensors' bytes
 * in base64, no number formatted, no zod pass) and published in chunks, yielding to the event
 * loop between chunks. A full buffer drops rows and counts them (stats.dropped) rather than
 * slowing or failing inference; a failed publish is counted too (stats.failed). The stats
 * count rows, as before.
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

  /**
   * Samples the request's rows (or takes `sampled`, the rows another record of the same request
   * sampled: a shadow's answer is logged for the rows its champion's was) and buffers them.
   * Returns the rows buffered.
   */
  record(entry: Omit<Entry, 'rows'>, rowCount: number, sampled?: readonly number[]): number[] {
    const { sampleRate, capacity } = this.options;
    if ((sampled === undefined && sampleRate <= 0) || rowCount === 0) return [];
    const random = this.options.random ?? Math.random;
    const rows: number[] = sampled ? [...sampled] : [];
    if (!sampled) for (let r = 0; r < rowCount; r++) if (sampleRate >= 1 || random() < sampleRate) rows.push(r);
    if (rows.length === 0) return rows;
    const room = capacity - this.pendingRows;
    if (room < rows.length) {
      this.stats.dropped += rows.length - Math.max(0, room);
      if (room <= 0) return [];
      rows.length = room;
    }
    this.buffer.push({ ...entry, rows });
    this.pendingRows += rows.length;
    this.stats.pending = this.pendingRows;
    this.draining ??= new Promise<void>((r) => setImmediate(r)).then(() => this.drain()).finally(() => (this.draining = undefined));
    return rows;
  }

  private async drain(): Promise<void> {
    const chunk = this.options.chunk ?? 200;
    while (this.buffer.length > 0) {
      const messages: OutgoingMessage[] = [];
      let rows = 0;
      const time = new Date();
      while (this.buffer.length > 0 && messages.length < chunk) {
        const entry = this.buffer.shift()!;
        try {
          messages.push(...predictionMessages(entry, entry.rows, time));
          rows += entry.rows.length;
        } catch (error) {
          this.stats.failed += entry.rows.length;
          this.warn(`prediction.logged not built: ${(error as Error).message}`);
        }
        this.pendingRows -= entry.rows.length;
      }
      try {
        if (messages.length > 0) await this.bus.publishMessages(messages);
        this.stats.published += rows;
      } catch (error) {
        this.stats.failed += rows;
        this.warn(`${messages.length} prediction.logged events (${rows} rows) not published: ${(error as Error).message}`);
      }
      this.stats.pending = this.pendingRows;
      // Requests waiting on the socket go first; logging resumes after them.
      if (this.buffer.length > 0) await nextTurn();
    }
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
