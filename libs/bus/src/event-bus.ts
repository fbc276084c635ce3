import { decodeEvent, dlqTopic, type AnyEvent, type EventEnvelope, type EventType } from '@mlops/contracts';
import { injectTraceContext, withConsumerSpan, withProducerSpan } from '@mlops/telemetry';
import { withBatchConsumerSpan } from './batch-span';
import {
  DEFAULT_RETRY,
  deadLetter,
  withBatchFallback,
  withRetries,
  type BatchHandler,
  type Handler,
  type Logger,
  type Outbox,
  type RetryPolicy,
} from './delivery-policy';
import {
  assertOutputsFit,
  DEFAULT_MESSAGE_LIMITS,
  fitDeadLetter,
  incomingViolation,
  MessageTooLargeError,
  outgoingViolation,
  type LimitViolation,
  type MessageLimits,
} from './message-limits';
import type { IncomingMessage, MessageTransport, OutgoingMessage, PartitionLag, Subscription } from './transport';

export const EVENT_HEADERS = { id: 'event-id', type: 'event-type', correlationId: 'correlation-id' } as const;

/** An event as a message on its topic, keyed by subject so order holds per model/entity. */
export function eventMessage(event: AnyEvent | EventEnvelope, headers: Record<string, string> = {}): OutgoingMessage {
  return {
    topic: event.type,
    key: event.subject,
    value: JSON.stringify(event),
    headers: {
      ...headers,
      [EVENT_HEADERS.id]: event.id,
      [EVENT_HEADERS.type]: event.type,
      [EVENT_HEADERS.correlationId]: event.correlationId,
    },
  };
}

export interface HandlerContext {
  /** Publishes with the acknowledgement of the message being handled. */
  publish(event: AnyEvent | EventEnvelope): void;
  publishMessage(message: OutgoingMessage): void;
  message: IncomingMessage;
}

export interface SubscribeMessages {
  group: string;
  topics: string[];
  handle: (message: IncomingMessage, ctx: HandlerContext) => Promise<void>;
  /**
   * A message over the key or message limit, not parsed. By default it is dead-lettered with
   * the reason; a consumer that answers bad input with its own event (ingestion's
   * `data.rejected`) publishes it here instead.
   */
  onOversize?: (message: IncomingMessage, violation: LimitViolation, ctx: HandlerContext) => Promise<void>;
  fromBeginning?: boolean;
  retry?: Partial<RetryPolicy>;
}

export interface BatchHandlerContext {
  /** Publishes with the acknowledgement of the batch being handled. */
  publish(event: AnyEvent | EventEnvelope): void;
  publishMessage(message: OutgoingMessage): void;
  /** The batch as delivered (with any message left out for not being a valid event). */
  messages: IncomingMessage[];
}

export interface SubscribeMessageBatches {
  group: string;
  topics: string[];
  /**
   * Consecutive messages of one partition, oldest first. If it throws, the batch's messages
   * are handled again one at a time (a batch of one each), with retries and the DLQ, so
   * it must be safe to run again for messages it already applied (apply event ids once).
   */
  handleBatch: (messages: IncomingMessage[], ctx: BatchHandlerContext) => Promise<void>;
  /** At most this many messages per call (default DEFAULT_MAX_BATCH_SIZE). */
  maxBatchSize?: number;
  fromBeginning?: boolean;
  retry?: Partial<RetryPolicy>;
}

export interface SubscribeEventBatches<T extends EventType> {
  group: string;
  types: readonly T[];
  /** Valid events of a batch, in delivery order; see SubscribeMessageBatches.handleBatch. */
  handleBatch: (events: EventEnvelope<T>[], ctx: BatchHandlerContext) => Promise<void>;
  maxBatchSize?: number;
  fromBeginning?: boolean;
  retry?: Partial<RetryPolicy>;
}

function batchContext(messages: IncomingMessage[], publish: Outbox): BatchHandlerContext {
  return {
    messages,
    publish: (event) => publish(eventMessage(event, injectTraceContext({}))),
    publishMessage: (m) => publish({ ...m, headers: injectTraceContext({ ...(m.headers ?? {}) }) }),
  };
}

/** The event a message carries, if it is a valid event of the message's topic. */
function eventOf(message: IncomingMessage): AnyEvent {
  const event = decodeEvent(message.value);
  if (event.type !== message.topic) {
    throw Object.assign(new Error(`event of type ${event.type} arrived on topic ${message.topic}`), {
      name: 'ContractViolation',
    });
  }
  return event;
}

export type EventHandler<T extends EventType> = (
  event: EventEnvelope<T>,
  ctx: HandlerContext,
) => Promise<void>;

export interface SubscribeEvents<T extends EventType> {
  group: string;
  types: readonly T[];
  handle: EventHandler<T>;
  fromBeginning?: boolean;
  retry?: Partial<RetryPolicy>;
}

/**
 * What services use: typed events over any transport, with trace context in headers,
 * retries with backoff, and dead letters (`<topic>.dlq`) for messages that keep failing
 * or break the event contract.
 */
export class EventBus {
  constructor(
    readonly transport: MessageTransport,
    private readonly options: { retry?: Partial<RetryPolicy>; logger?: Logger; limits?: MessageLimits } = {},
  ) {}

  /** The size limits this bus applies to what it consumes and publishes. */
  get limits(): MessageLimits {
    return this.options.limits ?? DEFAULT_MESSAGE_LIMITS;
  }

  /** Whether an event, as published (trace headers included), is over the message limit. */
  eventViolation(event: AnyEvent | EventEnvelope): LimitViolation | undefined {
    return outgoingViolation(eventMessage(event, injectTraceContext({})), this.limits);
  }

  /** Refuses (MessageTooLargeError) a message over the limits before anything is sent. */
  private checked(messages: OutgoingMessage[]): OutgoingMessage[] {
    assertOutputsFit(messages, this.limits);
    return messages;
  }

  /** Throws MessageTooLargeError (permanent: dead-lettered at once) for a message over the limits. */
  private assertIncomingFits(message: IncomingMessage): void {
    const over = incomingViolation(message, this.limits);
    if (over) throw new MessageTooLargeError(over.reason);
  }

  /** Publishes events; durable when it resolves (see MessageTransport.send). */
  publish(events: AnyEvent | EventEnvelope | (AnyEvent | EventEnvelope)[]): Promise<void> {
    const list = Array.isArray(events) ? events : [events];
    const topics = [...new Set(list.map((e) => e.type))].join(',');
    return withProducerSpan(topics, (headers) => this.transport.send(this.checked(list.map((e) => eventMessage(e, headers)))));
  }

  publishMessages(messages: OutgoingMessage[]): Promise<void> {
    const topics = [...new Set(messages.map((m) => m.topic))].join(',');
    return withProducerSpan(topics, (headers) =>
      this.transport.send(this.checked(messages.map((m) => ({ ...m, headers: { ...headers, ...(m.headers ?? {}) } })))),
    );
  }

  subscribe(spec: SubscribeMessages): Promise<Subscription> {
    const policy = { ...DEFAULT_RETRY, ...this.options.retry, ...spec.retry };
    const handler: Handler = (message, publish) =>
      withConsumerSpan(message.topic, spec.group, message.headers, async () => {
        const ctx: HandlerContext = {
          message,
          publish: (event) => publish(eventMessage(event, injectTraceContext({}))),
          publishMessage: (m) => publish({ ...m, headers: injectTraceContext({ ...(m.headers ?? {}) }) }),
        };
        const over = incomingViolation(message, this.limits);
        if (!over) return spec.handle(message, ctx);
        if (spec.onOversize) return spec.onOversize(message, over, ctx);
        throw new MessageTooLargeError(over.reason);
      });
    return this.transport.consume({
      group: spec.group,
      topics: spec.topics,
      fromBeginning: spec.fromBeginning,
      onMessage: withRetries(spec.group, handler, policy, this.options.logger, this.limits),
    });
  }

  /** Typed events; a message that is not a valid event of these types goes to the DLQ at once. */
  subscribeEvents<T extends EventType>(spec: SubscribeEvents<T>): Promise<Subscription> {
    return this.subscribe({
      group: spec.group,
      topics: [...spec.types],
      fromBeginning: spec.fromBeginning,
      retry: spec.retry,
      handle: async (message, ctx) => {
        await spec.handle(eventOf(message) as EventEnvelope<T>, ctx);
      },
    });
  }

  /**
   * Several messages per handler call (one partition's backlog, at most maxBatchSize), so
   * a consumer can apply them in one database transaction.
   */
  subscribeBatches(spec: SubscribeMessageBatches): Promise<Subscription> {
    return this.consumeBatches(spec, (messages, publish) => spec.handleBatch(messages, batchContext(messages, publish)));
  }

  /**
   * Typed event batches. A message that is not a valid event of these types goes to the
   * DLQ at once (with the batch's acknowledgement) and is left out of the batch.
   */
  subscribeEventBatches<T extends EventType>(spec: SubscribeEventBatches<T>): Promise<Subscription> {
    return this.consumeBatches({ ...spec, topics: [...spec.types] }, async (messages, publish) => {
      const events: EventEnvelope<T>[] = [];
      const dead: OutgoingMessage[] = [];
      for (const message of messages) {
        try {
          events.push(eventOf(message) as EventEnvelope<T>);
        } catch (error) {
          // Alone, the message is on the per-message path, which dead-letters it itself.
          if (messages.length === 1) throw error;
          this.options.logger?.warn(`${spec.group}: ${message.topic}[${message.partition}]@${message.offset} -> ${dlqTopic(message.topic)}: ${(error as Error).message}`);
          dead.push(fitDeadLetter(deadLetter(message, spec.group, error, 1), this.limits));
        }
      }
      if (events.length > 0) await spec.handleBatch(events, batchContext(messages, publish));
      dead.forEach(publish);
    });
  }

  /**
   * The batch delivery behind both batch subscriptions. Trace context: one CONSUMER span per
   * batch, linked to each message's producer span; a batch of one (and the one-at-a-time
   * fallback) continues the message's trace like subscribe does.
   */
  private consumeBatches(
    spec: { group: string; topics: string[]; maxBatchSize?: number; fromBeginning?: boolean; retry?: Partial<RetryPolicy> },
    handle: BatchHandler,
  ): Promise<Subscription> {
    const policy = { ...DEFAULT_RETRY, ...this.options.retry, ...spec.retry };
    const one: Handler = (message, publish) =>
      withConsumerSpan(message.topic, spec.group, message.headers, async () => {
        this.assertIncomingFits(message);
        return handle([message], publish);
      });
    const batch: BatchHandler = (messages, publish) =>
      withBatchConsumerSpan([...new Set(messages.map((m) => m.topic))].join(','), spec.group, messages, async () => {
        // A message over the limits is dead-lettered with the batch's acknowledgement, unparsed.
        const fitting = messages.filter((m) => !incomingViolation(m, this.limits));
        if (fitting.length > 0) await handle(fitting, publish);
        for (const message of messages) {
          const over = incomingViolation(message, this.limits);
          if (!over) continue;
          this.options.logger?.warn(`${spec.group}: ${message.topic}[${message.partition}]@${message.offset} -> ${dlqTopic(message.topic)}: ${over.reason}`);
          publish(fitDeadLetter(deadLetter(message, spec.group, new MessageTooLargeError(over.reason), 1), this.limits));
        }
      });
    const perMessage = withRetries(spec.group, one, policy, this.options.logger, this.limits);
    return this.transport.consume({
      group: spec.group,
      topics: spec.topics,
      fromBeginning: spec.fromBeginning,
      onMessage: perMessage,
      onBatch: withBatchFallback(spec.group, batch, perMessage, policy, this.options.logger, this.limits),
      maxBatchSize: spec.maxBatchSize,
    });
  }

  /** How far behind this bus's consumer groups are, per partition (none on a transport that cannot lag). */
  consumerLag(): Promise<PartitionLag[]> {
    return this.transport.consumerLag?.() ?? Promise.resolve([]);
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}
