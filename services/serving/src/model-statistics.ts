import { Injectable } from '@nestjs/common';
import type { RunTiming } from './batcher';

/** Triton's StatisticDuration: how many, and their cumulative nanoseconds. */
export interface Duration {
  count: number;
  ns: number;
}

/** One model version's counters, as Triton's ModelStatistics message has them. */
export interface VersionStatistics {
  name: string;
  version: number;
  /** Milliseconds since the epoch of the last inference, 0 when none. */
  lastInference: number;
  /** Rows inferred (a request of n rows counts n). */
  inferenceCount: number;
  /** Model runs (a batched run of several requests counts once). */
  executionCount: number;
  success: Duration;
  fail: Duration;
  queue: Duration;
  computeInput: Duration;
  computeInfer: Duration;
  computeOutput: Duration;
  /** Runs by batch size (rows), with the time spent in them. */
  batches: Map<number, Duration>;
}

/** What one successful request spent where (nanoseconds). */
export interface RequestTimes {
  rows: number;
  totalNs: number;
  /** Checking and decoding the request's tensors. */
  inputNs: number;
  /** From submitting to the model until its outputs came back, run included. */
  waitNs: number;
  /** Encoding the response. */
  outputNs: number;
  run: RunTiming;
}

const zero = (): Duration => ({ count: 0, ns: 0 });
const add = (d: Duration, ns: number) => {
  d.count++;
  d.ns += Math.max(0, Math.round(ns));
};

/**
 * Inference statistics per model version (Triton's statistics extension): success and failure
 * counts with their cumulative durations, and for each success the time in queue (waiting for a
 * batch), compute_input (decoding), compute_infer (the model's run) and compute_output
 * (encoding). Counters live as long as the process, across unloads, as Triton's do.
 */
@Injectable()
export class ModelStatistics {
  /** By model name, then version (no key string built per request). */
  private readonly models = new Map<string, Map<number, VersionStatistics>>();

  /** The counters of a version, made (all zero) on first use. */
  track(name: string, version: number): VersionStatistics {
    let versions = this.models.get(name);
    if (!versions) this.models.set(name, (versions = new Map()));
    let stats = versions.get(version);
    if (!stats) {
      stats = {
        name,
        version,
        lastInference: 0,
        inferenceCount: 0,
        executionCount: 0,
        success: zero(),
        fail: zero(),
        queue: zero(),
        computeInput: zero(),
        computeInfer: zero(),
        computeOutput: zero(),
        batches: new Map(),
      };
      versions.set(version, stats);
    }
    return stats;
  }

  succeeded(name: string, version: number, times: RequestTimes): void {
    const stats = this.track(name, version);
    stats.lastInference = Date.now();
    stats.inferenceCount += times.rows;
    add(stats.success, times.totalNs);
    add(stats.computeInput, times.inputNs);
    add(stats.queue, times.waitNs - times.run.runNs);
    add(stats.computeInfer, times.run.runNs);
    add(stats.computeOutput, times.outputNs);
    if (times.run.first) {
      stats.executionCount++;
      let batch = stats.batches.get(times.run.batchRows);
      if (!batch) stats.batches.set(times.run.batchRows, (batch = zero()));
      add(batch, times.run.runNs);
    }
  }

  /** A request that reached a model version and failed (bad tensors, a failed run). */
  failed(name: string, version: number, totalNs: number): void {
    add(this.track(name, version).fail, totalNs);
  }

  /** Versions of `name` (every model when empty), `version` only when given, sorted by name and version. */
  list(name = '', version?: number): VersionStatistics[] {
    return [...this.models.values()]
      .flatMap((versions) => [...versions.values()])
      .filter((s) => (name === '' || s.name === name) && (version === undefined || s.version === version))
      .sort((a, b) => a.name.localeCompare(b.name) || a.version - b.version);
  }
}

/** Triton's ModelStatistics (the gRPC message, and the JSON of GET /v2/models/stats) of one version. */
export function statisticsView(s: VersionStatistics) {
  const none = zero();
  return {
    name: s.name,
    version: String(s.version),
    last_inference: s.lastInference,
    inference_count: s.inferenceCount,
    execution_count: s.executionCount,
    inference_stats: {
      success: s.success,
      fail: s.fail,
      queue: s.queue,
      compute_input: s.computeInput,
      compute_infer: s.computeInfer,
      compute_output: s.computeOutput,
      cache_hit: none,
      cache_miss: none,
    },
    // Input and output are encoded per request, not per run: only compute_infer is a run's.
    batch_stats: [...s.batches.entries()]
      .sort(([a], [b]) => a - b)
      .map(([size, infer]) => ({ batch_size: size, compute_input: { count: infer.count, ns: 0 }, compute_infer: infer, compute_output: { count: infer.count, ns: 0 } })),
  };
}
