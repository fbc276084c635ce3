import { randomUUID } from 'node:crypto';
import { infraEnv } from '../../../../test/infra/infra-env';
import { waitFor } from '../../../../test/support/wait-for';
import type { Subscription } from '../transport';
import { KafkaTransport } from './kafka.transport';

/**
 * A backlog of messages whose handlers finish without I/O (a monitor replaying predictions)
 * must not hold the event loop until the whole fetched batch is done: the process's other
 * consumers, database replies and health checks need turns in between. Seen before the fix:
 * a fresh monitoring group replaying 900,000 predictions applied 94 lifecycle events in 40 s.
 */
describe('kafka transport: a consumer with a backlog leaves the event loop turns (real broker)', () => {
  const transports: KafkaTransport[] = [];
  const subscriptions: Subscription[] = [];
  afterAll(async () => {
    await Promise.all(subscriptions.map((s) => s.stop()));
    await Promise.all(transports.map((t) => t.close()));
  });

  it('a timer set at the first of 200 one-millisecond handlers fires long before the last one', async () => {
    const topic = `raw.fairness_${Date.now()}`;
    const transport = new KafkaTransport({ brokers: infraEnv().KAFKA_BROKERS.split(','), clientId: 'fairness' });
    transports.push(transport);
    // one partition, small messages: the whole backlog arrives in one fetch
    await transport.send(Array.from({ length: 200 }, (_, i) => ({ topic, key: 'one', value: Buffer.from(String(i)), headers: {} })));
    let handled = 0;
    let handledWhenTimerFired: number | undefined;
    subscriptions.push(
      await transport.consume({
        group: `fairness-${randomUUID()}`,
        topics: [topic],
        fromBeginning: true,
        onMessage: async () => {
          if (handled === 0) setTimeout(() => (handledWhenTimerFired = handled), 0);
          const until = performance.now() + 1;
          while (performance.now() < until);
          handled++;
          return [];
        },
      }),
    );
    await waitFor(() => handled === 200 && handledWhenTimerFired !== undefined, '200 messages handled and the timer fired', 60_000);
    expect(handledWhenTimerFired).toBeLessThan(50);
  });
});
