import { decodeEvent, type AnyEvent, type EventEnvelope, type EventType } from '@mlops/contracts';
import { injectTraceContext, withConsumerSpan, withProducerSpan } from '@mlops/telemetry';
import { DEFAULT_RETRY, withRetries, type Handler, type Logger, type RetryPolicy } from './delivery-policy';
import type { IncomingMessage, MessageTransport, OutgoingMessage, Subscription } from './transport';

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
  fromBeginning?: boolean;
  retry?: Partial<RetryPolicy>;
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
    private readonly options: { retry?: Partial<RetryPolicy>; logger?: Logger } = {},
  ) {}

  /** Publishes events; durable when it resolves (see MessageTransport.send). */
  publish(events: AnyEvent | EventEnvelope | (AnyEvent | EventEnvelope)[]): Promise<void> {
    const list = Array.isArray(events) ? events : [events];
    const topics = [...new Set(list.map((e) => e.type))].join(',');
    return withProducerSpan(topics, (headers) => this.transport.send(list.map((e) => eventMessage(e, headers))));
  }

  publishMessages(messages: OutgoingMessage[]): Promise<void> {
    const topics = [...new Set(messages.map((m) => m.topic))].join(',');
    return withProducerSpan(topics, (headers) =>
      this.transport.send(messages.map((m) => ({ ...m, headers: { ...headers, ...(m.headers ?? {}) } }))),
    );
  }

  subscribe(spec: SubscribeMessages): Promise<Subscription> {
    const policy = { ...DEFAULT_RETRY, ...this.options.retry, ...spec.retry };
    const handler: Handler = (message, publish) =>
      withConsumerSpan(message.topic, spec.group, message.headers, () =>
        spec.handle(message, {
          message,
          publish: (event) => publish(eventMessage(event, injectTraceContext({}))),
          publishMessage: (m) => publish({ ...m, headers: injectTraceContext({ ...(m.headers ?? {}) }) }),
        }),
      );
    return this.transport.consume({
      group: spec.group,
      topics: spec.topics,
      fromBeginning: spec.fromBeginning,
      onMessage: withRetries(spec.group, handler, policy, this.options.logger),
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
        const event = decodeEvent(message.value);
        if (event.type !== message.topic) {
          throw Object.assign(new Error(`event of type ${event.type} arrived on topic ${message.topic}`), {
            name: 'ContractViolation',
          });
        }
        await spec.handle(event as EventEnvelope<T>, ctx);
      },
    });
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}
