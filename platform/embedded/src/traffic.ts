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
  lastError?: string;
}

/**
 * Prediction traffic through the real KServe v2 gRPC endpoint of serving (@grpc/grpc-js
 * client), a few requests in flight, rows from a generator that can change its distribution.
 */
export class Traffic {
  private readonly client: UnaryClient;
  private running = false;
  private loops: Promise<void>[] = [];
  private seq = 0;
  readonly stats: TrafficStats = { requests: 0, failed: 0, rows: 0, byVersion: {} };

  constructor(
    address: string,
    private readonly model: string,
    private readonly rows: (n: number) => number[][],
    private readonly options: { rowsPerRequest: number; concurrency: number; pauseMs: number },
  ) {
    const pkg = loadProto(findProtoDir(INFERENCE_PROTO, 'SERVING_PROTO_DIR'), INFERENCE_PROTO) as unknown as {
      inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
    };
    this.client = new pkg.inference.GRPCInferenceService(address, grpc.credentials.createInsecure()) as UnaryClient;
  }

  /** One ModelInfer call; resolves with the version that answered. Failures are counted. */
  async infer(rows: number[][], version = ''): Promise<string | undefined> {
    const request = {
      model_name: this.model,
      model_version: version,
      id: `traffic-${++this.seq}`,
      inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, rows[0].length], contents: { fp32_contents: rows.flat() } }],
    };
    this.stats.requests++;
    try {
      const response = await new Promise<InferResponse>((done, fail) =>
        this.client.ModelInfer(request, (error, res) => (error ? fail(error) : done(res as InferResponse))),
      );
      this.stats.rows += rows.length;
      this.stats.byVersion[response.model_version] = (this.stats.byVersion[response.model_version] ?? 0) + 1;
      return response.model_version;
    } catch (error) {
      this.stats.failed++;
      this.stats.lastError = (error as Error).message;
      return undefined;
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (let i = 0; i < this.options.concurrency; i++) {
      this.loops.push(
        (async () => {
          while (this.running) {
            await this.infer(this.rows(this.options.rowsPerRequest));
            await sleep(this.options.pauseMs);
          }
        })(),
      );
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.loops = [];
  }

  close(): void {
    this.client.close();
  }
}
