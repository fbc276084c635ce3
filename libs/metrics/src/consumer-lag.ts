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

/**
 * Reads the offsets at scrape time: every partition the reader reports is set, the others are
 * dropped. When it fails (or takes longer than `timeoutMs`), the last values stay and onError is told.
 */
export interface ConsumerLagSource {
  read(): Promise<PartitionOffsets[]>;
  onError(error: Error): void;
  timeoutMs?: number;
}

export function createConsumerLagMetrics(registry: Registry, source?: ConsumerLagSource): ConsumerLagMetrics {
  const update = (offsets: PartitionOffsets) => {
    const high = offsetOf('highWatermark', offsets.highWatermark);
    const committed = offsetOf('committedOffset', offsets.committedOffset);
    const low = offsets.lowWatermark === undefined ? 0 : offsetOf('lowWatermark', offsets.lowWatermark);
    const value = Math.max(0, high - (committed < 0 ? low : committed));
    lag.set({ group: offsets.group, topic: offsets.topic, partition: String(offsets.partition) }, value);
    return value;
  };
  const lag: Gauge<'group' | 'topic' | 'partition'> = new Gauge({
    name: 'mlops_kafka_consumer_lag',
    help: 'Messages a consumer group has not committed yet, per topic partition',
    labelNames: ['group', 'topic', 'partition'] as const,
    registers: [registry],
    async collect() {
      if (!source) return;
      const timeoutMs = source.timeoutMs ?? 5000;
      let timer: NodeJS.Timeout | undefined;
      try {
        const offsets = await Promise.race([
          source.read(),
          new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no offsets from the broker within ${timeoutMs} ms`)), timeoutMs))),
        ]);
        lag.reset();
        offsets.forEach(update);
      } catch (error) {
        source.onError(error as Error);
      } finally {
        clearTimeout(timer);
      }
    },
  });
  return {
    lag,
    update,
    remove(group, topic, partition) {
      lag.remove({ group, topic, partition: String(partition) });
    },
  };
}
