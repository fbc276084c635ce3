import type { IncomingMessage, Subscription } from '../transport';
import { kitLogger, type KafkaKitOptions } from './kafka-kit-client';
import { KafkaTransport } from './kafka.transport';

export interface ObserveSpec {
  /** The observer's own consumer group (use a new one per observer, or startGroupsAtEnd first). */
  group: string;
  topics: readonly string[];
  /** Where a group with no committed offset starts. Default false: only what is published from now on. */
  fromBeginning?: boolean;
}

/**
 * Watches topics as any outside consumer sees them: read_committed (a transaction's outputs
 * only once committed), every message of every partition handed raw (topic, partition,
 * offset, key, value, headers) to `onMessage`, one at a time per partition, whatever it
 * holds, event or not. Unlike EventBus.subscribe nothing is retried with backoff, dead-lettered
 * or decoded: if `onMessage` throws, the message's batch is delivered again.
 * Missing topics are created (3 partitions). stop() the returned subscription when done.
 */
export async function observeKafka(
  options: KafkaKitOptions,
  spec: ObserveSpec,
  onMessage: (message: IncomingMessage) => void | Promise<void>,
): Promise<Subscription> {
  const transport = new KafkaTransport({ brokers: options.brokers, clientId: options.clientId ?? 'mlops-kafka-observer', logger: kitLogger(options) });
  try {
    await transport.consume({
      group: spec.group,
      topics: [...spec.topics],
      fromBeginning: spec.fromBeginning ?? false,
      onMessage: async (message) => {
        await onMessage(message);
        return [];
      },
    });
  } catch (error) {
    await transport.close().catch(() => undefined);
    throw error;
  }
  return { stop: () => transport.close() };
}
