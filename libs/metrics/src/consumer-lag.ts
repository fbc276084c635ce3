import { Gauge, type Registry } from 'prom-client';

/** One partition's positions, as kafkajs admin.fetchTopicOffsets / fetchOffsets report them (strings or numbers). */
export interface PartitionOffsets {
  group: string;
  topic: string;
  partition: number;
  /** The offset the next produced message will get (the log end). */
  highWatermark: number | string;
  /** The group's committed offset; -1 when the group has committed nothing yet. */
  committedOffset: number | string;
  /** The earliest offset still in the log; lag of a group without a commit counts from here (0 when unknown). */
  lowWatermark?: number | string;
}

export interface ConsumerLagMetrics {
  lag: Gauge<'group' | 'topic' | 'partition'>;
  /** Sets the lag of one partition: high watermark minus committed offset, never below 0. */
  update(offsets: PartitionOffsets): number;
  /** Drops a partition's series (e.g. after a rebalance moved it to another instance). */
  remove(group: string, topic: string, partition: number): void;
}

function offsetOf(field: string, value: number | string): number {
  const parsed = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(parsed)) throw new RangeError(`${field}: expected an integer offset, got ${JSON.stringify(value)}`);
  return parsed;
}

export function createConsumerLagMetrics(registry: Registry): ConsumerLagMetrics {
  const lag = new Gauge({
    name: 'mlops_kafka_consumer_lag',
    help: 'Messages a consumer group has not committed yet, per topic partition',
    labelNames: ['group', 'topic', 'partition'] as const,
    registers: [registry],
  });
  return {
    lag,
    update(offsets) {
      const high = offsetOf('highWatermark', offsets.highWatermark);
      const committed = offsetOf('committedOffset', offsets.committedOffset);
      const low = offsets.lowWatermark === undefined ? 0 : offsetOf('lowWatermark', offsets.lowWatermark);
      const value = Math.max(0, high - (committed < 0 ? low : committed));
      lag.set({ group: offsets.group, topic: offsets.topic, partition: String(offsets.partition) }, value);
      return value;
    },
    remove(group, topic, partition) {
      lag.remove({ group, topic, partition: String(partition) });
    },
  };
}
