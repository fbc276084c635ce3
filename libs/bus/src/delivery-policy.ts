import { setTimeout as sleep } from 'node:timers/promises';
import { dlqTopic } from '@mlops/contracts';
import { assertOutputsFit, DEFAULT_MESSAGE_LIMITS, fitDeadLetter, type MessageLimits } from './message-limits';
import { PermanentError } from './permanent-error';
import type { IncomingMessage, OutgoingMessage } from './transport';

export interface RetryPolicy {
  /** Handler attempts before the message goes to the DLQ. */
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, initialBackoffMs: 100, maxBackoffMs: 5_000 };

export { PermanentError };

export function isPermanent(error: unknown): boolean {
  return error instanceof PermanentError || (error as Error)?.name === 'ContractViolation';
}

const OUTAGE_CODES = new Set([
  // the network: the server is down, restarting or unreachable
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
  // Postgres: admin/crash shutdown, starting up, too many connections
  '57P01', '57P02', '57P03', '53300',
  // SQLite: another connection holds the lock
  'SQLITE_BUSY', 'SQLITE_LOCKED',
]);
const OUTAGE_MESSAGES = /Connection terminated|connection is closed|Connection is closed|not queryable|the database system is (starting up|shutting down)|Connection lost/i;

/**
 * An error of the infrastructure rather than of the message: the database or a server it
 * needs is unreachable or restarting (network errors, Postgres SQLSTATE class 08 and 57P0x,
 * SQLite busy). Looks through `cause` and TypeORM's `driverError`.
 */
export function isInfrastructureOutage(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 5) return false;
  const { code, message, cause, driverError } = error as { code?: unknown; message?: unknown; cause?: unknown; driverError?: unknown };
  if (typeof code === 'string' && (OUTAGE_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  if (typeof message === 'string' && OUTAGE_MESSAGES.test(message)) return true;
  return isInfrastructureOutage(driverError, depth + 1) || isInfrastructureOutage(cause, depth + 1);
}

export const DLQ_HEADERS = {
  error: 'dlq-error',
  errorName: 'dlq-error-name',
  topic: 'dlq-original-topic',
  partition: 'dlq-original-partition',
  offset: 'dlq-original-offset',
  group: 'dlq-consumer-group',
  attempts: 'dlq-attempts',
  failedAt: 'dlq-failed-at',
} as const;

/** The original bytes, key and headers, plus why and where it failed, so it can be replayed. */
export function deadLetter(message: IncomingMessage, group: string, error: unknown, attempts: number): OutgoingMessage {
  const err = error instanceof Error ? error : new Error(String(error));
  return {
    topic: dlqTopic(message.topic),
    key: message.key,
    value: message.value,
    headers: {
      ...message.headers,
      [DLQ_HEADERS.error]: err.message.slice(0, 4_000),
      [DLQ_HEADERS.errorName]: err.name,
      [DLQ_HEADERS.topic]: message.topic,
      [DLQ_HEADERS.partition]: String(message.partition),
      [DLQ_HEADERS.offset]: message.offset,
      [DLQ_HEADERS.group]: group,
      [DLQ_HEADERS.attempts]: String(attempts),
      [DLQ_HEADERS.failedAt]: new Date().toISOString(),
    },
  };
}

export type Outbox = (message: OutgoingMessage) => void;
export type Handler = (message: IncomingMessage, publish: Outbox) => Promise<void>;

export interface Logger {
  warn(message: string): void;
}

/**
 * Runs a handler with retries and exponential backoff; a message whose handler keeps
 * failing (or fails permanently) becomes a dead letter instead of blocking its partition.
 * An infrastructure outage does not use up attempts: a good message is retried (at the
 * longest backoff) until its database is back, never dead-lettered for it.
 * Messages the handler published are kept only from the successful attempt.
 */
export function withRetries(group: string, handler: Handler, policy: RetryPolicy, logger?: Logger, limits: MessageLimits = DEFAULT_MESSAGE_LIMITS) {
  return async (message: IncomingMessage): Promise<OutgoingMessage[]> => {
    let outages = 0;
    for (let attempt = 1; ; attempt++) {
      const outbox: OutgoingMessage[] = [];
      try {
        await handler(message, (m) => outbox.push(m));
        // An output the broker would refuse as too large: the input is dead-lettered instead.
        assertOutputsFit(outbox, limits);
        return outbox;
      } catch (error) {
        const where = `${message.topic}[${message.partition}]@${message.offset}`;
        if (!isPermanent(error) && isInfrastructureOutage(error)) {
          attempt--;
          const backoff = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** outages++);
          logger?.warn(`${group}: ${where} waits for the infrastructure (${(error as Error).message}); retrying in ${backoff} ms`);
          await sleep(backoff);
          continue;
        }
        if (isPermanent(error) || attempt >= policy.maxAttempts) {
          logger?.warn(`${group}: ${where} -> ${dlqTopic(message.topic)} after ${attempt} attempt(s): ${(error as Error).message}`);
          return [fitDeadLetter(deadLetter(message, group, error, attempt), limits)];
        }
        const backoff = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** (attempt - 1));
        logger?.warn(`${group}: ${where} attempt ${attempt} failed (${(error as Error).message}); retrying in ${backoff} ms`);
        await sleep(backoff);
      }
    }
  };
}

export type BatchHandler = (messages: IncomingMessage[], publish: Outbox) => Promise<void>;

/**
 * Runs a batch handler once over the whole batch. An infrastructure outage waits and runs
 * the batch again (attempts are not used up); any other failure falls back to the batch's
 * messages one at a time through `perMessage` (withRetries: retries, then the DLQ), so one
 * poison message is dead-lettered with its own reason while the others still apply.
 * Messages the batch handler published are kept only from a successful run.
 */
export function withBatchFallback(
  group: string,
  handler: BatchHandler,
  perMessage: (message: IncomingMessage) => Promise<OutgoingMessage[]>,
  policy: RetryPolicy,
  logger?: Logger,
  limits: MessageLimits = DEFAULT_MESSAGE_LIMITS,
) {
  return async (messages: IncomingMessage[]): Promise<OutgoingMessage[]> => {
    // Alone, a message gets exactly the per-message path (and its attempts).
    if (messages.length === 1) return perMessage(messages[0]);
    for (let outages = 0; ; outages++) {
      const outbox: OutgoingMessage[] = [];
      try {
        await handler(messages, (m) => outbox.push(m));
        // Too large an output: one at a time, the message that made it goes to the DLQ.
        assertOutputsFit(outbox, limits);
        return outbox;
      } catch (error) {
        const first = messages[0];
        const where = `${first.topic}[${first.partition}]@${first.offset}+${messages.length}`;
        if (!isPermanent(error) && isInfrastructureOutage(error)) {
          const backoff = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** outages);
          logger?.warn(`${group}: batch ${where} waits for the infrastructure (${(error as Error).message}); retrying in ${backoff} ms`);
          await sleep(backoff);
          continue;
        }
        logger?.warn(`${group}: batch ${where} failed (${(error as Error).message}); handling its messages one at a time`);
        const outputs: OutgoingMessage[] = [];
        for (const message of messages) outputs.push(...(await perMessage(message)));
        return outputs;
      }
    }
  };
}
