import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { findProtoDir, loadProto } from '@mlops/grpc';

const INFERENCE_PROTO = 'grpc_service.proto';

type UnaryClient = grpc.Client & Record<string, (request: unknown, callback: (error: grpc.ServiceError | null, response: unknown) => void) => void>;

interface InferResponse {
  model_version: string;
}

export interface TrafficStats {
  requests: number;
  failed: number;
  rows: number;
  /** Successful requests answered per model version. */
  byVersion: Record<string, number>;
  /** label.observed sent (the true labels of a share of the answered rows). */
  labels: number;
  lastError?: string;
}

/** Rows to send and, row for row, their true labels (known to the stream, not to the model). */
export interface LabelledRows {
  inputs: number[][];
  labels: number[];
}

export interface ObservedLabel {
  predictionId: string;
  label: number;
}

export interface TrafficOptions {
  rowsPerRequest: number;
  concurrency: number;
  pauseMs: number;
  /**
   * Ground truth for a share of the answered rows, sent `delayMs` after the answer (labels
   * arrive late, and serving logs its predictions in the background). Prediction ids are
   * serving's: `<request id>:<row>`.
   */
  labels?: { share: number; delayMs: number; publish: (labels: ObservedLabel[]) => Promise<void> };
}

/**
 * Prediction traffic through the real KServe v2 gRPC endpoint of serving (@grpc/grpc-js
 * client), a few requests in flight, rows from a generator that can change its distribution.
 */
export class Traffic {
  private readonly client: UnaryClient;
  private readonly run = randomBytes(3).toString('hex');
  private running = false;
  private loops: Promise<void>[] = [];
  private seq = 0;
  private answeredRows = 0;
  private pendingLabels: { due: number; label: ObservedLabel }[] = [];
  private labelTimer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  readonly stats: TrafficStats = { requests: 0, failed: 0, rows: 0, byVersion: {}, labels: 0 };

  constructor(
    address: string,
    private readonly model: string,
    private readonly rows: (n: number) => LabelledRows,
    private readonly options: TrafficOptions,
  ) {
    const pkg = loadProto(findProtoDir(INFERENCE_PROTO, 'SERVING_PROTO_DIR'), INFERENCE_PROTO) as unknown as {
      inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
    };
    this.client = new pkg.inference.GRPCInferenceService(address, grpc.credentials.createInsecure()) as UnaryClient;
  }

  /** One ModelInfer call; resolves with the version that answered. Failures are counted. */
  async infer(rows: number[][], version = '', labels?: number[]): Promise<string | undefined> {
    const id = `traffic-${this.run}-${++this.seq}`;
    const request = {
      model_name: this.model,
      model_version: version,
      id,
      inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, rows[0].length], contents: { fp32_contents: rows.flat() } }],
    };
    this.stats.requests++;
    try {
      const response = await new Promise<InferResponse>((done, fail) =>
        this.client.ModelInfer(request, (error, res) => (error ? fail(error) : done(res as InferResponse))),
      );
      this.stats.rows += rows.length;
      this.stats.byVersion[response.model_version] = (this.stats.byVersion[response.model_version] ?? 0) + 1;
      if (labels) this.observe(id, labels);
      return response.model_version;
    } catch (error) {
      this.stats.failed++;
      this.stats.lastError = (error as Error).message;
      return undefined;
    }
  }

  /** Queues the labels of a share of an answered request's rows (spread evenly, not at random). */
  private observe(requestId: string, labels: number[]): void {
    const spec = this.options.labels;
    if (!spec || spec.share <= 0) return;
    const due = Date.now() + spec.delayMs;
    labels.forEach((label, row) => {
      const before = Math.floor(this.answeredRows * spec.share);
      this.answeredRows++;
      if (Math.floor(this.answeredRows * spec.share) > before) this.pendingLabels.push({ due, label: { predictionId: `${requestId}:${row}`, label } });
    });
  }

  private flushLabels(all = false): Promise<void> {
    const spec = this.options.labels;
    if (!spec) return Promise.resolve();
    return (this.flushing ??= (async () => {
      const now = Date.now();
      const cut = all ? this.pendingLabels.length : this.pendingLabels.findIndex((p) => p.due > now);
      const ready = this.pendingLabels.splice(0, cut === -1 ? this.pendingLabels.length : cut);
      if (ready.length > 0) {
        await spec.publish(ready.map((p) => p.label));
        this.stats.labels += ready.length;
      }
    })().finally(() => (this.flushing = undefined)));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.options.labels) {
      this.labelTimer = setInterval(() => void this.flushLabels().catch(() => undefined), Math.max(10, this.options.labels.delayMs / 2));
    }
    for (let i = 0; i < this.options.concurrency; i++) {
      this.loops.push(
        (async () => {
          while (this.running) {
            const batch = this.rows(this.options.rowsPerRequest);
            await this.infer(batch.inputs, '', batch.labels);
            await sleep(this.options.pauseMs);
          }
        })(),
      );
    }
  }

  /** Stops sending; the labels still queued are sent. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.loops = [];
    clearInterval(this.labelTimer);
    await this.flushing;
    await this.flushLabels(true);
  }

  close(): void {
    clearInterval(this.labelTimer);
    this.client.close();
  }
}
