import { partitionKey } from '../message-limits';
import {
  DEFAULT_MAX_BATCH_SIZE,
  type ConsumeOptions,
  type IncomingMessage,
  type MessageTransport,
  type OutgoingMessage,
  type Subscription,
} from '../transport';

interface StoredMessage {
  key?: string;
  value: Buffer;
  headers: Record<string, string>;
}

/** One topic: a single ordered partition whose oldest messages are trimmed (see InProcessTransport). */
class TopicLog {
  base = 0;
  /** Position slots of the groups that read this topic. */
  readonly groups = new Set<string>();
  /** Bytes of the values kept. */
  bytes = 0;
  /**
   * Kept messages are `messages[head..]`. Trimmed ones are cut off the array in chunks: one
   * splice per trim moved every kept message, each time a producer appended.
   */
  private readonly messages: (StoredMessage | undefined)[] = [];
  private head = 0;
  private waiters: (() => void)[] = [];

  get end(): number {
    return this.base + this.messages.length - this.head;
  }

  append(message: StoredMessage): void {
    this.messages.push(message);
    this.bytes += message.value.length;
  }

  wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((w) => w());
  }

  waitForMore(): { promise: Promise<void>; cancel: () => void } {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.waiters.push(resolve);
    return { promise, cancel: resolve };
  }

  at(offset: number): StoredMessage | undefined {
    return offset < this.base ? undefined : this.messages[this.head + offset - this.base];
  }

  /** The lowest offset from which the kept values take at most `bytes`, or `limit` if that is lower. */
  offsetWithin(bytes: number, limit: number): number {
    let offset = this.base;
    for (let total = this.bytes; total > bytes && offset < limit; offset++) total -= this.at(offset)!.value.length;
    return offset;
  }

  /** Drops messages below `offset`, keeping the log bounded. */
  trimBelow(offset: number): void {
    const drop = Math.min(offset, this.end) - this.base;
    if (drop <= 0) return;
    for (let i = this.head; i < this.head + drop; i++) {
      this.bytes -= this.messages[i]!.value.length;
      this.messages[i] = undefined;
    }
    this.head += drop;
    this.base += drop;
    if (this.head >= 1_024 && this.head * 2 >= this.messages.length) {
      this.messages.splice(0, this.head);
      this.head = 0;
    }
  }
}

export interface InProcessTransportOptions {
  /** Newest messages kept per topic beyond what a group still has to read (like Kafka retention). Default 100,000. */
  retainMessages?: number;
  /**
   * Bytes of values kept per topic beyond what a group still has to read (like Kafka's
   * retention.bytes): 100,000 unread prediction.logged events of 1.3 KB held 130 MB, and the
   * garbage collector's work on them cost serving a quarter of its 100-row throughput.
   * Default 16 MiB; `Infinity` keeps every message.
   */
  retainBytes?: number;
  /** Where a late group's gap is reported (default: console). */
  logger?: { warn(message: string): void };
}

/** Messages a group never saw because retention dropped them before the group first read the topic. */
export interface JoinGap {
  group: string;
  topic: string;
  /** Messages dropped before the group joined (offsets 0 .. firstOffset - 1). */
  missed: number;
  /** The offset the group started at: the oldest message still kept. */
  firstOffset: number;
}

/**
 * The embedded-mode bus: an in-memory log per topic with committed positions per group.
 * Same delivery contract as Kafka: per-group delivery, order per topic (and so per key),
 * ack after the handler returns, outputs appended atomically with the ack, redelivery
 * when the handler throws. Not durable across process restarts.
 *
 * Retention: a topic keeps every message a known group (one that has consumed it, running or
 * stopped) has not yet read, and besides that its newest `retainMessages` messages within
 * `retainBytes` (at least the newest 1,000) — whether or not any group read them, as Kafka's
 * retention does. A group that joins late (no position on the topic yet, `fromBeginning`
 * not false) starts at the oldest kept message, as Kafka's `auto.offset.reset=earliest`
 * does after retention. If messages were dropped before it joined, that gap is never
 * silent: a warning names group, topic and count, and `joinGaps()` lists it.
 */
export class InProcessTransport implements MessageTransport {
  readonly kind = 'in-process' as const;
  private readonly topics = new Map<string, TopicLog>();
  /** `${group}\u0000${topic}` -> next offset to deliver. */
  private readonly positions = new Map<string, number>();
  private readonly active = new Set<string>();
  private readonly stops = new Set<() => Promise<void>>();
  private readonly retain: number;
  private readonly retainBytes: number;
  private readonly logger: { warn(message: string): void };
  private readonly gaps: JoinGap[] = [];

  constructor(options: InProcessTransportOptions = {}) {
    this.retain = options.retainMessages ?? 100_000;
    this.retainBytes = options.retainBytes ?? 16 * 1024 * 1024;
    this.logger = options.logger ?? console;
  }

  /** Every late join that started after dropped messages, oldest first. */
  joinGaps(): JoinGap[] {
    return this.gaps.map((gap) => ({ ...gap }));
  }

  private log(topic: string): TopicLog {
    let log = this.topics.get(topic);
    if (!log) this.topics.set(topic, (log = new TopicLog()));
    return log;
  }

  async send(messages: OutgoingMessage[]): Promise<void> {
    this.appendAll(messages);
  }

  private appendAll(messages: OutgoingMessage[]): void {
    const touched = new Set<TopicLog>();
    for (const m of messages) {
      const log = this.log(m.topic);
      // Keys are bounded as the Kafka adapter bounds them, so consumers see the same key.
      log.append({ key: partitionKey(m.key), value: typeof m.value === 'string' ? Buffer.from(m.value) : m.value, headers: { ...(m.headers ?? {}) } });
      touched.add(log);
    }
    for (const log of touched) {
      this.trim(log);
      log.wake();
    }
  }

  /** Keeps what any group still has to read, the retained newest messages, and at least the last 1,000. */
  private trim(log: TopicLog): void {
    const keep = log.end - 1_000;
    if (log.base >= keep) return;
    let limit = keep;
    for (const slot of log.groups) limit = Math.min(limit, this.positions.get(slot)!);
    // offsetWithin walks from the oldest message: bounded by `limit`, it only walks what is dropped next
    log.trimBelow(Math.min(limit, Math.max(log.end - this.retain, log.offsetWithin(this.retainBytes, limit))));
  }

  async consume(options: ConsumeOptions): Promise<Subscription> {
    const loops = options.topics.map((topic) => this.runLoop(topic, options));
    const stops = loops.map((l) => l.stop);
    const stopAll = async () => {
      await Promise.all(stops.map((s) => s()));
      this.stops.delete(stopAll);
    };
    this.stops.add(stopAll);
    return { stop: stopAll };
  }

  private runLoop(topic: string, options: ConsumeOptions): { stop: () => Promise<void> } {
    const slot = `${options.group}\u0000${topic}`;
    if (this.active.has(slot)) {
      throw new Error(`in-process bus: group "${options.group}" already has a consumer on "${topic}"`);
    }
    this.active.add(slot);
    const log = this.log(topic);
    if (!this.positions.has(slot)) {
      this.positions.set(slot, options.fromBeginning === false ? log.end : log.base);
      if (options.fromBeginning !== false && log.base > 0) this.reportGap(options.group, topic, log.base);
    }
    log.groups.add(slot);
    let running = true;
    let wait: { cancel: () => void } | undefined;
    const done = (async () => {
      while (running) {
        const offset = Math.max(this.positions.get(slot)!, log.base);
        const stored = log.at(offset);
        if (!stored) {
          const w = log.waitForMore();
          wait = w;
          await w.promise;
          continue;
        }
        const batch = this.readFrom(log, topic, offset, options.onBatch ? (options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE) : 1);
        let outputs: OutgoingMessage[];
        try {
          outputs = options.onBatch ? await options.onBatch(batch) : await options.onMessage(batch[0]);
        } catch {
          // Not acknowledged: deliver the same message(s) again after a pause.
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        // Ack and outputs in one synchronous step: nothing can observe one without the other.
        this.positions.set(slot, offset + batch.length);
        this.appendAll(outputs);
      }
    })();
    return {
      stop: async () => {
        running = false;
        wait?.cancel();
        await done;
        this.active.delete(slot);
      },
    };
  }

  private reportGap(group: string, topic: string, firstOffset: number): void {
    this.gaps.push({ group, topic, missed: firstOffset, firstOffset });
    const bytes = this.retainBytes === Infinity ? 'no byte limit' : `retainBytes ${this.retainBytes}`;
    this.logger.warn(
      `in-process bus: group "${group}" joined "${topic}" after retention dropped its first ${firstOffset} messages ` +
        `(retainMessages ${this.retain}, ${bytes}); it starts at offset ${firstOffset}, the oldest kept, and will not see those ${firstOffset}`,
    );
  }

  /** Up to `max` consecutive messages from `offset` (at least one: the caller saw it stored). */
  private readFrom(log: TopicLog, topic: string, offset: number, max: number): IncomingMessage[] {
    const batch: IncomingMessage[] = [];
    for (let at = offset; at < log.end && batch.length < max; at++) {
      const stored = log.at(at)!;
      batch.push({ topic, partition: 0, offset: String(at), key: stored.key, value: stored.value, headers: { ...stored.headers } });
    }
    return batch;
  }

  async close(): Promise<void> {
    await Promise.all([...this.stops].map((s) => s()));
  }
}
