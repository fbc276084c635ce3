import { randomUUID } from 'node:crypto';
import { EventBus, KafkaTransport, type Subscription } from '@mlops/bus';
import { createMetricsRegistry } from '@mlops/metrics';
import { infraEnv } from '../../../../test/infra/infra-env';
import { waitFor } from '../../../../test/support/wait-for';
import { exportConsumerLag } from './consumer-lag';

/** mlops_kafka_consumer_lag from a real broker: what a group has not committed yet, per partition. */
describe('consumer lag on real Kafka', () => {
  const topic = `lag-it-${randomUUID()}`;
  const behind = `lag-it-behind-${randomUUID()}`;
  const atEnd = `lag-it-at-end-${randomUUID()}`;
  let bus: EventBus;
  const subscriptions: Subscription[] = [];
  const warnings: string[] = [];
  let release = () => undefined as void;

  beforeAll(() => {
    bus = new EventBus(new KafkaTransport({ brokers: infraEnv().KAFKA_BROKERS.split(','), clientId: 'lag-it', numPartitions: 1 }));
  });
  afterAll(async () => {
    // A failed assertion must not leave the handler holding its message (the consumer could not stop).
    release();
    for (const s of subscriptions) await s.stop();
    await bus?.close();
  });

  it('counts the messages a group holds without committing, and 0 once it commits; a group started at the end counts 0 before its first commit', async () => {
    await bus.transport.send([0, 1, 2, 3, 4].map((i) => ({ topic, key: 'k', value: `m${i}` })));
    const held = new Promise<void>((resolve) => (release = resolve));
    const handled: string[] = [];
    subscriptions.push(
      await bus.transport.consume({
        group: behind,
        topics: [topic],
        fromBeginning: true,
        onMessage: async (m) => {
          await held;
          handled.push(m.value.toString());
          return [];
        },
      }),
    );
    subscriptions.push(await bus.transport.consume({ group: atEnd, topics: [topic], fromBeginning: false, onMessage: async () => [] }));

    const registry = createMetricsRegistry({ service: 'lag-it', defaultMetrics: false });
    exportConsumerLag(registry, bus, { log: () => undefined, warn: (m) => warnings.push(m) });
    const lagOf = async (group: string) => {
      const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === 'mlops_kafka_consumer_lag');
      return (metric?.values ?? []).filter((v) => v.labels.group === group && v.labels.topic === topic);
    };

    // The held group has committed nothing: all five messages from the start of the log.
    expect(await lagOf(behind)).toEqual([{ labels: { service: 'lag-it', group: behind, topic, partition: '0' }, value: 5 }]);
    expect(await lagOf(atEnd)).toEqual([{ labels: { service: 'lag-it', group: atEnd, topic, partition: '0' }, value: 0 }]);

    release();
    await waitFor(() => handled.length === 5, 'the five messages handled', 30_000);
    const caughtUp = await waitFor(async () => {
      const [lag] = await lagOf(behind);
      return lag?.value === 0 ? lag : undefined;
    }, 'the group to commit', 30_000);
    expect(caughtUp.labels).toEqual({ service: 'lag-it', group: behind, topic, partition: '0' });
    expect(warnings).toEqual([]);
  });
});
