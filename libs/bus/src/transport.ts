import type { Headers } from '@mlops/telemetry';

export type { Headers };

export interface OutgoingMessage {
  topic: string;
  /** Messages with the same key keep their order (one partition per key). */
  key?: string;
  /** A Buffer is kept as it is, not copied (the in-process log holds it): do not change it after publishing. */
  value: Buffer | string;
  headers?: Headers;
}

export interface IncomingMessage {
  topic: string;
  partition: number;
  offset: string;
  key?: string;
  value: Buffer;
  headers: Headers;
}

/**
 * Called once per delivered message. The messages it returns are published together
 * with the acknowledgement of the input: atomically where the adapter supports it
 * (Kafka with a transactional id, the in-process log), otherwise sent before the offset
 * commit (at-least-once).
 * Throwing means "not processed": the message is delivered again.
 */
export type DeliveryHandler = (message: IncomingMessage) => Promise<OutgoingMessage[]>;

/**
 * Called with consecutive messages of one partition (oldest first). Like DeliveryHandler,
 * its outputs go out with the acknowledgement of every message of the batch, and throwing
 * means none of them was processed: the whole batch is delivered again.
 */
export type BatchDeliveryHandler = (messages: IncomingMessage[]) => Promise<OutgoingMessage[]>;

/** Messages per BatchDeliveryHandler call when ConsumeOptions.maxBatchSize is not set. */
export const DEFAULT_MAX_BATCH_SIZE = 500;

export interface ConsumeOptions {
  /** Consumer group: each group sees every message once; members of a group share the work. */
  group: string;
  topics: string[];
  /** Where a group with no committed position starts. Default: the earliest message. */
  fromBeginning?: boolean;
  onMessage: DeliveryHandler;
  /** When set, messages are delivered here, several at a time, instead of to onMessage. */
  onBatch?: BatchDeliveryHandler;
  /** At most this many messages per onBatch call (default DEFAULT_MAX_BATCH_SIZE). */
  maxBatchSize?: number;
}

export interface Subscription {
  stop(): Promise<void>;
}

/** How far one consumer group is behind on one partition, as the broker reports it (offsets as decimal strings). */
export interface PartitionLag {
  group: string;
  topic: string;
  partition: number;
  /** The offset the next produced message will get (the log end). */
  highWatermark: string;
  /** The group's committed offset, -1 when it has committed nothing yet. */
  committedOffset: string;
  /** The earliest offset still in the log. */
  lowWatermark: string;
}

/** The port every bus adapter implements: a partitioned log with consumer groups. */
export interface MessageTransport {
  readonly kind: 'kafka' | 'in-process';
  /**
   * Durable once it resolves. If it rejects, some messages may already be written: sending
   * again is safe because consumers apply an event id once.
   */
  send(messages: OutgoingMessage[]): Promise<void>;
  consume(options: ConsumeOptions): Promise<Subscription>;
  /**
   * The lag of every group this transport consumes in, per partition of its topics; absent
   * where nothing can lag behind (the in-process log delivers at once).
   */
  consumerLag?(): Promise<PartitionLag[]>;
  close(): Promise<void>;
}
