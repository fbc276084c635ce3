import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { acceptJsonEvent } from './json-event-shortcut';
import { payloadSchemas, type PayloadInput, type PayloadOf } from './payloads';
import { EVENT_TYPES, type EventType } from './topics';

const envelopeSchema = z.object({
  id: z.uuid(),
  type: z.enum(EVENT_TYPES),
  time: z.iso.datetime({ offset: true }),
  source: z.string().min(1),
  subject: z.string().min(1),
  correlationId: z.string().min(1),
  data: z.unknown(),
});

/** The one envelope every event travels in; `traceparent` rides in transport headers. */
export interface EventEnvelope<T extends EventType = EventType> {
  id: string;
  type: T;
  time: string;
  source: string;
  subject: string;
  correlationId: string;
  data: PayloadOf<T>;
}

/** The event of one of the types T, as a union that narrows on `type`. */
export type EventOf<T extends EventType> = { [K in T]: EventEnvelope<K> }[T];

export type AnyEvent = EventOf<EventType>;

export interface ContractIssue {
  /** Dotted path of the offending field, e.g. `data.version`. */
  field: string;
  message: string;
}

/** A message that does not satisfy the event contract; lists every offending field. */
export class ContractViolation extends Error {
  constructor(readonly issues: ContractIssue[]) {
    super(`invalid event: ${issues.map((i) => `${i.field || '(root)'}: ${i.message}`).join('; ')}`);
    this.name = 'ContractViolation';
  }
}

/** One issue per offending field; unknown keys are named one by one. */
export function issuesOf(error: z.ZodError, prefix: string[] = []): ContractIssue[] {
  return error.issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path.map(String)];
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: [...path, key].join('.'), message: 'unexpected field (not declared)' }));
    }
    return [{ field: path.join('.'), message: issue.message }];
  });
}

/** Validates an untrusted value (e.g. a decoded Kafka message) as an event of a known type. */
export function parseEvent(value: unknown): AnyEvent {
  const envelope = envelopeSchema.safeParse(value);
  if (!envelope.success) throw new ContractViolation(issuesOf(envelope.error));
  const data = payloadSchemas[envelope.data.type].safeParse(envelope.data.data);
  if (!data.success) throw new ContractViolation(issuesOf(data.error, ['data']));
  return { ...envelope.data, data: data.data } as AnyEvent;
}

/**
 * Parses and validates a message value. The high-volume events that are certainly valid
 * skip zod (acceptJsonEvent, same result); everything else goes through parseEvent.
 */
export function decodeEvent(bytes: Buffer | string): AnyEvent {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString());
  } catch (error) {
    throw new ContractViolation([{ field: '', message: `not valid JSON (${(error as Error).message})` }]);
  }
  return acceptJsonEvent(value) ?? parseEvent(value);
}

export interface NewEvent<T extends EventType> {
  source: string;
  subject: string;
  data: PayloadInput<T>;
  /** The loop this event belongs to; a new loop starts when omitted. */
  correlationId?: string;
  /** A deterministic id makes a re-sent event recognisable as the same event. */
  id?: string;
  time?: Date;
}

/** Builds a validated event; throws ContractViolation if the payload breaks the contract. */
export function createEvent<T extends EventType>(type: T, event: NewEvent<T>): EventEnvelope<T> {
  const data = payloadSchemas[type].safeParse(event.data);
  if (!data.success) throw new ContractViolation(issuesOf(data.error, ['data']));
  const id = event.id ?? randomUUID();
  return {
    id,
    type,
    time: (event.time ?? new Date()).toISOString(),
    source: event.source,
    subject: event.subject,
    correlationId: event.correlationId ?? id,
    data: data.data as PayloadOf<T>,
  };
}

/** Follow-up events keep the correlation id of the event that caused them. */
export function causedBy<T extends EventType>(
  cause: Pick<EventEnvelope, 'correlationId'>,
  type: T,
  event: Omit<NewEvent<T>, 'correlationId'>,
): EventEnvelope<T> {
  return createEvent(type, { ...event, correlationId: cause.correlationId });
}
