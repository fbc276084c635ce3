import { observeKafka, type KafkaKitOptions, type Subscription } from '@mlops/bus';
import { decodeEvent, type AnyEvent, type EventType } from '@mlops/contracts';

export interface ObservedEvent {
  event: AnyEvent;
  /** When this observer received it (ms since epoch). */
  receivedAt: number;
}

/** A message of this run on an event topic that is not an event of the contract. */
export interface ContractBreak {
  topic: string;
  partition: number;
  offset: string;
  error: string;
  value: string;
}

/**
 * Records the platform's events as any outside consumer sees them on Kafka (observeKafka,
 * read_committed: a transaction's outputs only once committed), keeping those `keep` accepts.
 * A message `keep` accepts that fails the contract's schema is kept in `broken`:
 * expectContractKept() fails the test with it. The group should be started at the end of its
 * topics (startGroupsAtEnd) before start().
 */
export class KafkaEventLog {
  readonly events: ObservedEvent[] = [];
  readonly broken: ContractBreak[] = [];
  /** Messages that are not even JSON, so cannot be told to be of this run (other runs share the topics). */
  unreadable = 0;
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
      } catch (error) {
        if (this.ofThisRun(message.value)) {
          const { topic, partition, offset } = message;
          this.broken.push({ topic, partition, offset, error: (error as Error).message, value: message.value.toString().slice(0, 2_000) });
        }
        return;
      }
      if (this.keep(event)) this.events.push({ event, receivedAt: Date.now() });
    });
  }

  /** Whether a message that failed decoding is of this run, by `keep` on its raw JSON. */
  private ofThisRun(value: Buffer): boolean {
    let raw: unknown;
    try {
      raw = JSON.parse(value.toString());
    } catch {
      this.unreadable++;
      return false;
    }
    if (typeof raw !== 'object' || raw === null) return false;
    const { data } = raw as { data?: unknown };
    return this.keep({ ...raw, data: typeof data === 'object' && data !== null ? data : {} } as AnyEvent);
  }

  /** Fails when a message of this run on the observed topics broke the event contract. */
  expectContractKept(): void {
    if (this.broken.length === 0) return;
    const lines = this.broken.map((b) => `${b.topic}[${b.partition}]@${b.offset}: ${b.error}\n    ${b.value}`);
    throw new Error(`${this.broken.length} message(s) of this run broke the event contract:\n${lines.join('\n')}`);
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
