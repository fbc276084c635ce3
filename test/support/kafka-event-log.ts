import { observeKafka, type KafkaKitOptions, type Subscription } from '@mlops/bus';
import { decodeEvent, type AnyEvent, type EventType } from '@mlops/contracts';

export interface ObservedEvent {
  event: AnyEvent;
  /** When this observer received it (ms since epoch). */
  receivedAt: number;
}

/**
 * Records the platform's events as any outside consumer sees them on Kafka (observeKafka,
 * read_committed: a transaction's outputs only once committed), keeping those `keep` accepts.
 * The group should be started at the end of its topics (startGroupsAtEnd) before start().
 */
export class KafkaEventLog {
  readonly events: ObservedEvent[] = [];
  private subscription?: Subscription;

  constructor(
    private readonly kafka: KafkaKitOptions,
    private readonly group: string,
    readonly types: readonly EventType[],
    private readonly keep: (event: AnyEvent) => boolean,
  ) {}

  async start(): Promise<void> {
    this.subscription = await observeKafka(this.kafka, { group: this.group, topics: this.types, fromBeginning: false }, (message) => {
      if (message.value.length === 0) return;
      let event: AnyEvent;
      try {
        event = decodeEvent(message.value);
      } catch {
        return; // not an event of the contract: no test here is about it
      }
      if (this.keep(event)) this.events.push({ event, receivedAt: Date.now() });
    });
  }

  /** The first event of `type` that matches `where`. */
  find<T extends EventType>(type: T, where: (event: Extract<AnyEvent, { type: T }>) => boolean = () => true): Extract<AnyEvent, { type: T }> | undefined {
    return this.events.find((o) => o.event.type === type && where(o.event as Extract<AnyEvent, { type: T }>))?.event as Extract<AnyEvent, { type: T }> | undefined;
  }

  /** Events of one loop (correlation id), in the order their producers created them. */
  loop(correlationId: string): AnyEvent[] {
    return this.events
      .map((o) => o.event)
      .filter((e) => e.correlationId === correlationId)
      .sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
  }
}
