import { Partitioners, type Producer } from 'kafkajs';
import { kitKafka, type KafkaKitOptions } from './kafka-kit-client';

/** A record as it goes on a topic: not necessarily an event (raw.<source> records are not). */
export interface RawMessage {
  /** Records with the same key go to the same partition, in order; keyless ones are spread. */
  key?: string;
  value: Buffer | string;
  headers?: Record<string, string>;
}

export interface RawProducerOptions {
  /**
   * Default true: the broker drops duplicates of a retried send. False for tests that restart
   * the broker: an idempotent producer whose sequence state an outage broke is refused for
   * ever (OutOfOrderSequence).
   */
  idempotent?: boolean;
}

/**
 * Sends records as they are to a topic, acknowledged by all in-sync replicas, partitioned as
 * the bus partitions (Kafka's murmur2 of the key). A send that fails after the client's
 * retries (KafkaKitOptions.retry) rejects; retrying it is the caller's choice. For events,
 * EventBus.publish does the same with the event headers and trace context.
 */
export class KafkaRawProducer {
  private constructor(private readonly producer: Producer) {}

  static async connect(options: KafkaKitOptions, producerOptions: RawProducerOptions = {}): Promise<KafkaRawProducer> {
    const producer = kitKafka(options).producer({
      idempotent: producerOptions.idempotent ?? true,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    return new KafkaRawProducer(producer);
  }

  /** Resolves once every message is acknowledged. */
  async send(topic: string, messages: readonly RawMessage[]): Promise<void> {
    await this.producer.send({ topic, acks: -1, messages: messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers })) });
  }

  close(): Promise<void> {
    return this.producer.disconnect();
  }
}
