import { concatData, elementCount, sliceData, type HostTensor } from './tensors';

export type Feeds = Record<string, HostTensor>;
export type RunFn = (feeds: Feeds) => Promise<Feeds>;

export interface BatcherOptions {
  /** Most rows one run may hold (Triton: max_batch_size). */
  maxBatch: number;
  /** How long the first queued request waits for company (Triton: max_queue_delay_microseconds). */
  delayUs: number;
}

export interface BatcherStats {
  requests: number;
  rows: number;
  runs: number;
  /** Runs that held more than one request. */
  coalescedRuns: number;
  largestRun: number;
}

/**
 * Filled in by the batcher before a request's promise settles: how long the run that served it
 * took and how many rows it held; `first` is true for exactly one request of each run (so a
 * run is counted once).
 */
export interface RunTiming {
  runNs: number;
  batchRows: number;
  first: boolean;
}

interface Pending {
  feeds: Feeds;
  rows: number;
  timing?: RunTiming;
  resolve(outputs: Feeds): void;
  reject(error: unknown): void;
}

interface Queue {
  items: Pending[];
  rows: number;
  cancel?: () => void;
}

/** Non-batch dimensions and datatypes of every input: only requests alike share a run. */
function signature(feeds: Feeds): string {
  return Object.keys(feeds)
    .sort()
    .map((name) => `${name}:${feeds[name].datatype}:${feeds[name].shape.slice(1).join('x')}`)
    .join('|');
}

/**
 * Dynamic batching along dimension 0: concurrent requests for one model version are
 * concatenated into one run within `delayUs` (or as soon as `maxBatch` rows are queued; a
 * sub-millisecond delay also ends at the first event-loop turn in which no request joined),
 * and each caller gets exactly its own rows of every output back.
 *
 * A request with `maxBatch` rows or more runs alone. If a batched run fails, or a model
 * turns out to have an output that is not batched along dimension 0, the requests are run
 * one by one, so one request never fails another.
 */
export class DynamicBatcher {
  private readonly queues = new Map<string, Queue>();
  private splittable = true;
  readonly stats: BatcherStats = { requests: 0, rows: 0, runs: 0, coalescedRuns: 0, largestRun: 0 };

  constructor(
    private readonly run: RunFn,
    private readonly options: BatcherOptions,
  ) {}

  submit(feeds: Feeds, rows: number, timing?: RunTiming): Promise<Feeds> {
    this.stats.requests++;
    this.stats.rows += rows;
    if (rows >= this.options.maxBatch || !this.splittable) return this.runOnce(feeds, [{ timing }]);
    return new Promise<Feeds>((resolve, reject) => {
      const key = signature(feeds);
      let queue = this.queues.get(key);
      if (queue && queue.rows + rows > this.options.maxBatch) {
        this.flush(key);
        queue = undefined;
      }
      if (!queue) this.queues.set(key, (queue = { items: [], rows: 0 }));
      queue.items.push({ feeds, rows, timing, resolve, reject });
      queue.rows += rows;
      if (queue.rows >= this.options.maxBatch) this.flush(key);
      else if (!queue.cancel) {
        const current = queue;
        const fire = () => {
          if (this.queues.get(key) === current) this.flush(key);
        };
        // setTimeout has millisecond granularity, so a sub-millisecond delay is counted in
        // event-loop turns (setImmediate lets pending I/O, i.e. more requests, in between). The
        // wait ends early at the first turn that brought no new request: waiting on after the
        // socket went quiet only spins the CPU and delays the answer.
        if (this.options.delayUs < 1000) {
          const deadline = process.hrtime.bigint() + BigInt(Math.round(this.options.delayUs * 1000));
          let seen = current.items.length;
          let immediate: NodeJS.Immediate;
          const poll = () => {
            const joined = current.items.length > seen;
            seen = current.items.length;
            if (!joined || process.hrtime.bigint() >= deadline) fire();
            else immediate = setImmediate(poll);
          };
          immediate = setImmediate(poll);
          current.cancel = () => clearImmediate(immediate);
        } else {
          const timer = setTimeout(fire, this.options.delayUs / 1000);
          current.cancel = () => clearTimeout(timer);
        }
      }
    });
  }

  /** Runs everything queued now (used on shutdown). */
  flushAll(): void {
    for (const key of [...this.queues.keys()]) this.flush(key);
  }

  private flush(key: string): void {
    const queue = this.queues.get(key);
    if (!queue) return;
    this.queues.delete(key);
    queue.cancel?.();
    void this.execute(queue.items, queue.rows);
  }

  private runOnce(feeds: Feeds, items: Pick<Pending, 'timing'>[]): Promise<Feeds> {
    this.stats.runs++;
    if (items.length > 1) this.stats.coalescedRuns++;
    const rows = Object.values(feeds)[0]?.shape[0] ?? 1;
    this.stats.largestRun = Math.max(this.stats.largestRun, rows);
    const started = performance.now();
    const timed = () => {
      const runNs = (performance.now() - started) * 1e6;
      for (let i = 0; i < items.length; i++) {
        const timing = items[i].timing;
        if (!timing) continue;
        timing.runNs = runNs;
        timing.batchRows = rows;
        timing.first = i === 0;
      }
    };
    return this.run(feeds).then(
      (outputs) => {
        timed();
        return outputs;
      },
      (error: unknown) => {
        timed();
        throw error;
      },
    );
  }

  private async execute(items: Pending[], totalRows: number): Promise<void> {
    if (items.length === 1) {
      const [item] = items;
      await this.runOnce(item.feeds, [item]).then(item.resolve, item.reject);
      return;
    }
    const feeds: Feeds = {};
    for (const name of Object.keys(items[0].feeds)) {
      const first = items[0].feeds[name];
      feeds[name] = {
        datatype: first.datatype,
        shape: [totalRows, ...first.shape.slice(1)],
        data: concatData(items.map((i) => i.feeds[name].data)),
      };
    }
    let outputs: Feeds;
    try {
      outputs = await this.runOnce(feeds, items);
    } catch {
      return this.oneByOne(items);
    }
    if (Object.values(outputs).some((t) => t.shape.length === 0 || t.shape[0] !== totalRows)) {
      this.splittable = false;
      return this.oneByOne(items);
    }
    let offset = 0;
    for (const item of items) {
      const own: Feeds = {};
      for (const [name, t] of Object.entries(outputs)) {
        const rowSize = elementCount(t.shape.slice(1));
        own[name] = {
          datatype: t.datatype,
          shape: [item.rows, ...t.shape.slice(1)],
          data: sliceData(t.data, offset * rowSize, (offset + item.rows) * rowSize),
        };
      }
      offset += item.rows;
      item.resolve(own);
    }
  }

  private async oneByOne(items: Pending[]): Promise<void> {
    await Promise.all(items.map((item) => this.runOnce(item.feeds, [item]).then(item.resolve, item.reject)));
  }
}
