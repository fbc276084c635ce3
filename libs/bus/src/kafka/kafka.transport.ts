import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import {
  Kafka,
  logLevel,
  Partitioners,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type IHeaders,
  type KafkaMessage,
  type Producer,
  type SASLOptions,
} from 'kafkajs';
import { deadLetter } from '../delivery-policy';
import { byTopic, requestSizedChunks } from './kafka-requests';
import {
  DEFAULT_MESSAGE_LIMITS,
  fitDeadLetter,
  isRefusedAsTooLarge,
  MessageTooLargeError,
  type MessageLimits,
} from '../message-limits';
import {
  DEFAULT_MAX_BATCH_SIZE,
  type ConsumeOptions,
  type IncomingMessage,
  type MessageTransport,
  type OutgoingMessage,
  type PartitionLag,
  type Subscription,
} from '../transport';

/** Longest run of message handling before a consumer lets the rest of the process have a turn. */
const YIELD_AFTER_MS = 10;

export interface KafkaTransportOptions {
  brokers: string[];
  clientId: string;
  ssl?: boolean;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  /**
   * Turns on Kafka transactions for consumers: a consumer's outputs are committed in the
   * same transaction as its input offsets (meant as exactly-once consume -> produce; with
   * kafkajs 2.2.4 a crash has been seen to leave a few duplicates visible, so consumers
   * still apply event ids once).
   * Must be stable for one service instance so a restarted instance fences its zombie.
   */
  transactionalId?: string;
  /** Partitions for topics this transport creates. */
  numPartitions?: number;
  sessionTimeoutMs?: number;
  /**
   * How long a fetch waits on the broker for data when there is none (default 500 ms, the Java
   * consumer's fetch.max.wait.ms; kafkajs's own default is 5 s). A consumer stops only after its
   * fetch in flight returns, so this bounds how long stopping a subscription takes; a message
   * that arrives ends the wait at once either way.
   */
  fetchMaxWaitMs?: number;
  logger?: { warn(message: string): void; error(message: string): void };
  /** Sizes dead letters are cut to (see fitDeadLetter); default DEFAULT_MESSAGE_LIMITS. */
  limits?: MessageLimits;
}

const BENIGN_KAFKAJS_LOGS =
  /rebalanc|Topic creation errors|concurrent operation on the same transaction|coordinator is not available|coordinator is not aware of this member|coordinator is loading|not the correct coordinator|no leader for this topic-partition|does not host this topic-partition/i;

function toHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v !== undefined) out[k] = Array.isArray(v) ? v.map(String).join(',') : v.toString();
  }
  return out;
}

export { MAX_REQUEST_BYTES, requestSizedChunks } from './kafka-requests';

/** The distributed-mode bus adapter over kafkajs. */
export class KafkaTransport implements MessageTransport {
  readonly kind = 'kafka' as const;
  private readonly kafka: Kafka;
  private admin?: Promise<Admin>;
  private producer?: Promise<Producer>;
  private readonly knownTopics = new Set<string>();
  private readonly closers = new Set<() => Promise<void>>();
  /** What each live subscription reads, for consumerLag. */
  private readonly subscriptions = new Set<{ group: string; topics: string[]; fromBeginning: boolean }>();

  constructor(private readonly options: KafkaTransportOptions) {
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      ssl: options.ssl,
      sasl: options.sasl as SASLOptions | undefined,
      logLevel: logLevel.WARN,
      logCreator: () => ({ level, log }) => {
        // kafkajs logs, at ERROR, responses it then handles itself: heartbeats during a
        // rebalance, "already exists" from topic creation, CONCURRENT_TRANSACTIONS while the
        // previous transaction's markers are written (retried), and UNKNOWN_MEMBER_ID from a
        // member the group evicted (paused past its session timeout), which then rejoins; and,
        // while a broker starts or moves leadership, "coordinator is loading", "not the correct
        // coordinator", "no leader" and "does not host this topic-partition", which kafkajs
        // retries (a retry that runs out still throws, and the caller logs that).
        if (BENIGN_KAFKAJS_LOGS.test(`${log.message} ${log.error ?? ''}`)) return;
        const line = `kafkajs ${log.message}${log.error ? `: ${log.error}` : ''}`;
        if (level <= logLevel.ERROR) (options.logger?.error ?? console.error)(line);
        else (options.logger?.warn ?? console.warn)(line);
      },
      retry: { initialRetryTime: 300, retries: 10 },
    });
  }

  private newProducer(transactionalId?: string): Promise<Producer> {
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      transactionalId,
      // A transaction left open by a crashed instance that never comes back blocks
      // read_committed consumers of its output partitions until this timeout aborts it.
      transactionTimeout: 15_000,
      createPartitioner: Partitioners.DefaultPartitioner,
      // Idempotence holds only if the producer never gives up on a send it started.
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 30_000 },
    });
    return producer.connect().then(() => producer);
  }

  private sharedProducer(): Promise<Producer> {
    this.producer ??= this.newProducer();
    return this.producer;
  }

  private adminClient(): Promise<Admin> {
    this.admin ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })();
    return this.admin;
  }

  /** Creates missing topics explicitly so brokers without auto-creation work too. */
  async ensureTopics(topics: string[]): Promise<void> {
    const missing = [...new Set(topics)].filter((t) => !this.knownTopics.has(t));
    if (missing.length === 0) return;
    const admin = await this.adminClient();
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({ topic, numPartitions: this.options.numPartitions ?? 3 })),
    });
    missing.forEach((t) => this.knownTopics.add(t));
  }

  /**
   * Idempotent (no duplicates from retries), acks from all in-sync replicas. Plain sends are
   * not transactional: transactions are used for consume -> produce.
   */
  async send(messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.ensureTopics(messages.map((m) => m.topic));
    const producer = await this.sharedProducer();
    for (const chunk of requestSizedChunks(messages)) {
      try {
        await producer.sendBatch({ topicMessages: byTopic(chunk), acks: -1 });
      } catch (error) {
        if (!isRefusedAsTooLarge(error)) throw error;
        throw new MessageTooLargeError(`the broker refused a message to ${[...new Set(chunk.map((m) => m.topic))].join(', ')} as too large: ${(error as Error).message}`, { cause: error });
      }
    }
  }

  /**
   * Sends a slice's outputs with `commit`; if the broker refuses them as too large, which
   * kafkajs never retries and would otherwise fail the partition for good, each input is
   * handled again alone (`redo`, for a slice of several) and an input whose own outputs are
   * refused goes to its DLQ with the reason instead, so the partition goes on.
   */
  private async deliverOrDeadLetter(
    group: string,
    slice: IncomingMessage[],
    produced: OutgoingMessage[],
    redo: (message: IncomingMessage) => Promise<OutgoingMessage[]>,
    commit: (outputs: OutgoingMessage[], lastOffset: string) => Promise<void>,
  ): Promise<void> {
    let refusal: unknown;
    try {
      await commit(produced, slice[slice.length - 1].offset);
      return;
    } catch (error) {
      if (!isRefusedAsTooLarge(error)) throw error;
      refusal = error;
    }
    for (const message of slice) {
      if (slice.length > 1) {
        try {
          await commit(await redo(message), message.offset);
          continue;
        } catch (error) {
          if (!isRefusedAsTooLarge(error)) throw error;
          refusal = error;
        }
      }
      const reason = `the broker refused an output as too large: ${(refusal as Error).message}`;
      this.options.logger?.warn(`${group}: ${message.topic}[${message.partition}]@${message.offset} -> DLQ: ${reason}`);
      const dead = deadLetter(message, group, new MessageTooLargeError(reason), 1);
      await commit([fitDeadLetter(dead, this.options.limits ?? DEFAULT_MESSAGE_LIMITS)], message.offset);
    }
  }

  async consume(options: ConsumeOptions): Promise<Subscription> {
    const { group, topics, onMessage, onBatch } = options;
    await this.ensureTopics(topics);
    const sessionTimeout = this.options.sessionTimeoutMs ?? 10_000;
    const consumer: Consumer = this.kafka.consumer({
      groupId: group,
      sessionTimeout,
      heartbeatInterval: Math.min(3_000, Math.floor(sessionTimeout / 3)),
      maxWaitTimeInMs: this.options.fetchMaxWaitMs ?? 500,
      readUncommitted: false,
    });
    const transactionalId = this.options.transactionalId ? `${this.options.transactionalId}.${group}` : undefined;
    let txProducer = transactionalId ? await this.newProducer(transactionalId) : undefined;

    // kafkajs prefetches the next batch while a batch is still being handled, from the offset
    // resolved so far; while a transaction commits, that refetch can start at a message we
    // already handled. Batches of one partition therefore run one after another, and the
    // next offset this member committed filters out what it already handled. The map
    // survives rebalances: it is a lower bound of the group's committed offset, which only
    // grows, and the broker may still report an older one while a transaction's offset
    // commit is pending (kafkajs does not ask for stable offsets).
    const committed = new Map<string, bigint>();
    const inFlight = new Map<string, Promise<void>>();
    let stopping = false;
    consumer.on(consumer.events.CRASH, (e) => {
      this.options.logger?.error(`kafka consumer ${group} crashed: ${e.payload.error.message}`);
      // kafkajs restarts a crashed consumer only after a retriable error. Others leave it
      // stopped for good: seen while the broker restarts ("Failed to find group coordinator"),
      // after which the service consumed nothing more. Run it again ourselves.
      if (!e.payload.restart && !stopping) void restartAfterCrash();
    });
    const restartAfterCrash = async () => {
      for (let attempt = 1; !stopping; attempt++) {
        await sleep(Math.min(30_000, 1_000 * attempt));
        if (stopping) return;
        try {
          // kafkajs keeps the subscriptions of a crashed consumer; it needs a connection and run.
          await consumer.connect();
          await consumer.run(runConfig);
          // stop() may have run while this joined the group; its disconnect came too early.
          if (stopping) await consumer.disconnect();
          else this.options.logger?.warn(`kafka consumer ${group} running again after its crash`);
          return;
        } catch (error) {
          this.options.logger?.error(`kafka consumer ${group} could not run again (attempt ${attempt}): ${(error as Error).message}`);
        }
      }
    };

    const handleBatch = async ({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) => {
      const slot = `${batch.topic}:${batch.partition}`;
      const floor = committed.get(slot) ?? -1n;
      const outputs: OutgoingMessage[] = [];
      const handled: { slice: IncomingMessage[]; produced: OutgoingMessage[] }[] = [];
      let last: string | undefined;
      const fresh = batch.messages.filter((m) => BigInt(m.offset) >= floor);
      // One message per handler call, or consecutive slices of at most maxBatchSize.
      const size = onBatch ? Math.max(1, options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE) : 1;
      let turnStarted = performance.now();
      for (let i = 0; i < fresh.length; i += size) {
        if (!isRunning() || isStale()) break;
        // Handlers that finish without I/O (a backlog of predictions) would run a whole fetch
        // back to back and hold the event loop for seconds: the service's other consumers,
        // its database replies and its health checks would wait that long at every step.
        if (performance.now() - turnStarted > YIELD_AFTER_MS) {
          await nextTurn();
          turnStarted = performance.now();
        }
        const slice = fresh.slice(i, i + size).map((m) => this.incoming(batch.topic, batch.partition, m));
        const produced = onBatch ? await onBatch(slice) : await onMessage(slice[0]);
        const sliceLast = slice[slice.length - 1].offset;
        if (txProducer) {
          outputs.push(...produced);
          handled.push({ slice, produced });
        } else {
          await this.deliverOrDeadLetter(group, slice, produced, onMessage, (out) => (out.length > 0 ? this.send(out) : Promise.resolve()));
          resolveOffset(sliceLast);
        }
        last = sliceLast;
        await heartbeat();
      }
      if (last === undefined) return;
      const next = (BigInt(last) + 1n).toString();
      if (txProducer) {
        const producer = txProducer;
        const commit = (out: OutgoingMessage[], lastOffset: string) =>
          this.commitTransaction(producer, group, out, { topic: batch.topic, partition: batch.partition, offset: (BigInt(lastOffset) + 1n).toString() });
        try {
          try {
            await commit(outputs, last);
          } catch (error) {
            if (!isRefusedAsTooLarge(error)) throw error;
            // The transaction was aborted: one slice per transaction, refused inputs to their DLQ.
            for (const { slice, produced } of handled) await this.deliverOrDeadLetter(group, slice, produced, onMessage, commit);
          }
        } catch (error) {
          // A transaction that could not be aborted (the broker was gone) leaves kafkajs's
          // producer in state ABORTING for good. A new producer with the same transactional id
          // fences the old one; the batch is then redelivered to it.
          // Once stopped, this subscription must not fence the producer of the one that
          // replaced it (same group, same transactional id).
          const broken = txProducer;
          if (!stopping) txProducer = await this.newProducer(transactionalId!);
          await broken.disconnect().catch(() => undefined);
          throw error;
        }
        resolveOffset(last);
      } else {
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
      }
      committed.set(slot, BigInt(next));
    };

    const runConfig = {
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload: EachBatchPayload) => {
        const slot = `${payload.batch.topic}:${payload.batch.partition}`;
        const run = (inFlight.get(slot) ?? Promise.resolve()).catch(() => undefined).then(() => handleBatch(payload));
        inFlight.set(slot, run);
        return run;
      },
    };
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: options.fromBeginning ?? true });
    await consumer.run(runConfig);
    const subscription = { group, topics, fromBeginning: options.fromBeginning ?? true };
    this.subscriptions.add(subscription);
    const stop = async () => {
      stopping = true;
      this.subscriptions.delete(subscription);
      await consumer.disconnect();
      await txProducer?.disconnect();
      this.closers.delete(stop);
    };
    this.closers.add(stop);
    return { stop };
  }

  /**
   * Per group and partition: the topic's end offset and the group's committed offset, both
   * asked of the broker with the admin client. A group that starts at the end and has not
   * committed on a partition yet (nothing arrived there since it joined) counts as caught up.
   */
  async consumerLag(): Promise<PartitionLag[]> {
    const groups = new Map<string, { topics: Set<string>; fromBeginning: boolean }>();
    for (const s of this.subscriptions) {
      const entry = groups.get(s.group) ?? { topics: new Set<string>(), fromBeginning: false };
      s.topics.forEach((t) => entry.topics.add(t));
      entry.fromBeginning ||= s.fromBeginning;
      groups.set(s.group, entry);
    }
    if (groups.size === 0) return [];
    const admin = await this.adminClient();
    const topics = [...new Set([...groups.values()].flatMap((g) => [...g.topics]))];
    const ends = new Map(await Promise.all(topics.map(async (topic) => [topic, await admin.fetchTopicOffsets(topic)] as const)));
    const lags: PartitionLag[] = [];
    for (const [group, { topics: groupTopics, fromBeginning }] of groups) {
      const committed = await admin.fetchOffsets({ groupId: group, topics: [...groupTopics] });
      for (const { topic, partitions } of committed) {
        const byPartition = new Map(partitions.map((p) => [p.partition, p.offset]));
        for (const end of ends.get(topic) ?? []) {
          const offset = byPartition.get(end.partition) ?? '-1';
          lags.push({
            group,
            topic,
            partition: end.partition,
            highWatermark: end.high,
            committedOffset: offset === '-1' && !fromBeginning ? end.high : offset,
            lowWatermark: end.low,
          });
        }
      }
    }
    return lags;
  }

  /**
   * Outputs and the input offset commit in one Kafka transaction. A retriable failure before
   * the commit (typically CONCURRENT_TRANSACTIONS while the previous transaction's markers
   * are still being written) aborts and sends the same outputs again, so the handler does
   * not run twice for it.
   */
  private async commitTransaction(
    producer: Producer,
    group: string,
    outputs: OutgoingMessage[],
    input: { topic: string; partition: number; offset: string },
  ): Promise<void> {
    await this.ensureTopics(outputs.map((o) => o.topic));
    for (let attempt = 1; ; attempt++) {
      const tx = await producer.transaction();
      let committing = false;
      try {
        for (const chunk of requestSizedChunks(outputs)) await tx.sendBatch({ topicMessages: byTopic(chunk), acks: -1 });
        await tx.sendOffsets({
          consumerGroupId: group,
          topics: [{ topic: input.topic, partitions: [{ partition: input.partition, offset: input.offset }] }],
        });
        committing = true;
        await tx.commit();
        return;
      } catch (error) {
        await tx.abort().catch(() => undefined);
        // A failed commit is ambiguous (it may have been applied): never send its outputs
        // again from here; the batch is redelivered and consumers dedupe by event id.
        const retry = !committing && (error as { retriable?: boolean }).retriable && attempt < 20;
        if (!retry) throw error;
        await new Promise((r) => setTimeout(r, Math.min(1_000, 50 * attempt)));
      }
    }
  }

  private incoming(topic: string, partition: number, m: KafkaMessage): IncomingMessage {
    return {
      topic,
      partition,
      offset: m.offset,
      key: m.key?.toString(),
      value: m.value ?? Buffer.alloc(0),
      headers: toHeaders(m.headers),
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.closers].map((c) => c()));
    await (await this.producer)?.disconnect();
    await (await this.admin)?.disconnect();
  }
}
