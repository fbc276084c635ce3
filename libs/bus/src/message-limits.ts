import { createHash } from 'node:crypto';
import { PermanentError } from './permanent-error';
import type { IncomingMessage, OutgoingMessage } from './transport';

/** Size limits the bus applies at the edge of every consumer and producer. */
export interface MessageLimits {
  /**
   * Largest message (value + key + headers) a consumer accepts or a producer sends
   * (BUS_MAX_MESSAGE_BYTES). The default stays below the broker's `message.max.bytes`
   * (1048588 bytes by default, record batch overhead included).
   */
  maxMessageBytes: number;
  /** Largest key of a consumed message (BUS_MAX_KEY_BYTES). */
  maxKeyBytes: number;
}

export const DEFAULT_MESSAGE_LIMITS: MessageLimits = { maxMessageBytes: 1_000_000, maxKeyBytes: 16 * 1024 };

/** The settings behind the limits, named in every refusal so an operator knows what to change. */
export const LIMIT_SETTINGS = { maxMessageBytes: 'BUS_MAX_MESSAGE_BYTES', maxKeyBytes: 'BUS_MAX_KEY_BYTES' } as const;

/**
 * Keys longer than this are replaced by `sha256:<hex>` of the key before a Kafka producer
 * partitions them. kafkajs 2.2.4 hashes keys with a murmur2 over unbounded BigInt-backed
 * longs, whose cost grows super-linearly with the key (a 256 KB key holds the event loop for
 * seconds); a fixed-size key bounds it. The full key stays in the event (its subject).
 */
export const MAX_PARTITION_KEY_BYTES = 256;

/** A key that costs a bounded time to partition: itself, or `sha256:<hex>` of it when long. */
export function partitionKey(key: string): string;
export function partitionKey(key: string | undefined): string | undefined;
export function partitionKey(key: string | undefined): string | undefined {
  if (key === undefined || Buffer.byteLength(key) <= MAX_PARTITION_KEY_BYTES) return key;
  return `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

export function headerBytes(headers: Record<string, string> | undefined): number {
  let size = 0;
  for (const [k, v] of Object.entries(headers ?? {})) size += Buffer.byteLength(k) + Buffer.byteLength(v);
  return size;
}

/** Bytes of a message as the limits count them: value, key and headers. */
export function messageBytes(message: { key?: string; value: Buffer | string; headers?: Record<string, string> }): number {
  return Buffer.byteLength(message.value) + (message.key ? Buffer.byteLength(message.key) : 0) + headerBytes(message.headers);
}

/** Which part of a message is over which limit. */
export interface LimitViolation {
  field: 'key' | 'message';
  bytes: number;
  limit: number;
  setting: (typeof LIMIT_SETTINGS)[keyof typeof LIMIT_SETTINGS];
  reason: string;
}

/** A consumed message over the key or message limit, checked before anything parses it. */
export function incomingViolation(message: IncomingMessage, limits: MessageLimits): LimitViolation | undefined {
  const keyBytes = message.key ? Buffer.byteLength(message.key) : 0;
  if (keyBytes > limits.maxKeyBytes) {
    return violation('key', `key of ${keyBytes} bytes is over the ${limits.maxKeyBytes}-byte limit (BUS_MAX_KEY_BYTES)`, keyBytes, limits.maxKeyBytes, 'BUS_MAX_KEY_BYTES');
  }
  const bytes = messageBytes(message);
  if (bytes > limits.maxMessageBytes) {
    return violation('message', `message of ${bytes} bytes is over the ${limits.maxMessageBytes}-byte limit (BUS_MAX_MESSAGE_BYTES)`, bytes, limits.maxMessageBytes, 'BUS_MAX_MESSAGE_BYTES');
  }
  return undefined;
}

/** An outgoing message over the message limit (its key is bounded by partitionKey instead). */
export function outgoingViolation(message: OutgoingMessage, limits: MessageLimits): LimitViolation | undefined {
  const bytes = messageBytes({ ...message, key: partitionKey(message.key) });
  if (bytes <= limits.maxMessageBytes) return undefined;
  return violation(
    'message',
    `output to ${message.topic} of ${bytes} bytes is over the ${limits.maxMessageBytes}-byte limit (BUS_MAX_MESSAGE_BYTES)`,
    bytes,
    limits.maxMessageBytes,
    'BUS_MAX_MESSAGE_BYTES',
  );
}

function violation(field: LimitViolation['field'], reason: string, bytes: number, limit: number, setting: LimitViolation['setting']): LimitViolation {
  return { field, bytes, limit, setting, reason };
}

/** A message over a size limit, or one the broker refused as too large: retrying cannot help. */
export class MessageTooLargeError extends PermanentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MessageTooLargeError';
  }
}

/** Throws MessageTooLargeError for the first output over the limit. */
export function assertOutputsFit(outputs: OutgoingMessage[], limits: MessageLimits): void {
  for (const output of outputs) {
    const over = outgoingViolation(output, limits);
    if (over) throw new MessageTooLargeError(over.reason);
  }
}

const TOO_LARGE_TYPES = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/** A broker's refusal of a produce request as too large (looks through causes). */
export function isRefusedAsTooLarge(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 5) return false;
  const { type, cause, originalError } = error as { type?: unknown; cause?: unknown; originalError?: unknown };
  if (typeof type === 'string' && TOO_LARGE_TYPES.has(type)) return true;
  return isRefusedAsTooLarge(cause, depth + 1) || isRefusedAsTooLarge(originalError, depth + 1);
}

export const TRUNCATION_HEADERS = {
  originalBytes: 'dlq-original-bytes',
  truncated: 'dlq-truncated',
  originalKeyBytes: 'dlq-original-key-bytes',
} as const;

/**
 * A dead letter that fits the message limit: when the original is too big, its key is
 * bounded like a partition key and its value cut to what fits, with the original sizes in
 * headers (the original stays on its own topic until retention, at the offset the DLQ names).
 */
export function fitDeadLetter(dlq: OutgoingMessage, limits: MessageLimits): OutgoingMessage {
  const bytes = messageBytes(dlq);
  if (bytes <= limits.maxMessageBytes) return dlq;
  const key = partitionKey(dlq.key);
  const headers: Record<string, string> = { ...dlq.headers, [TRUNCATION_HEADERS.originalBytes]: String(bytes), [TRUNCATION_HEADERS.truncated]: 'true' };
  if (key !== dlq.key) headers[TRUNCATION_HEADERS.originalKeyBytes] = String(Buffer.byteLength(dlq.key!));
  // Producer headers can be the large part: drop them first, keeping the DLQ's own.
  let room = limits.maxMessageBytes - (key ? Buffer.byteLength(key) : 0) - headerBytes(headers);
  let kept = headers;
  if (room < 0) {
    kept = Object.fromEntries(Object.entries(headers).filter(([k]) => k.startsWith('dlq-')));
    room = limits.maxMessageBytes - (key ? Buffer.byteLength(key) : 0) - headerBytes(kept);
  }
  const value = Buffer.isBuffer(dlq.value) ? dlq.value : Buffer.from(dlq.value);
  return { topic: dlq.topic, key, value: value.subarray(0, Math.max(0, room)), headers: kept };
}
