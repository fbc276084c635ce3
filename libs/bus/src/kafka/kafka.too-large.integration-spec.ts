import { randomUUID } from 'node:crypto';
import { infraEnv } from '../../../../test/infra/infra-env';
import { waitFor } from '../../../../test/support/wait-for';
import { DLQ_HEADERS } from '../delivery-policy';
import { EventBus } from '../event-bus';
import type { IncomingMessage, Subscription } from '../transport';
import { KafkaAdminKit } from './kafka-admin-kit';
import { KafkaTransport } from './kafka.transport';

const FAST_RETRY = { maxAttempts: 3, initialBackoffMs: 10, maxBackoffMs: 50 };
const quiet = { warn: () => undefined, error: () => undefined };

/**
 * An output under the bus's own limit that the broker still refuses as too large (a topic
 * with a smaller `max.message.bytes`): kafkajs does not retry MESSAGE_TOO_LARGE, and the
 * consumer used to crash and be handed the same input for ever. The input is dead-lettered
 * with the reason and the messages behind it come out.
 */
describe.each([
  ['plain', undefined],
  ['transactional', `too-large-${process.pid}`],
])('kafka transport: an output the broker refuses as too large (%s, real broker)', (_, transactionalId) => {
  const brokers = () => infraEnv().KAFKA_BROKERS.split(',');
  const subscriptions: Subscription[] = [];
  let bus: EventBus;
  let admin: KafkaAdminKit;
  beforeAll(() => {
    bus = new EventBus(new KafkaTransport({ brokers: brokers(), clientId: 'too-large', transactionalId, logger: quiet }), { retry: FAST_RETRY });
    admin = new KafkaAdminKit({ brokers: brokers(), clientId: 'too-large-admin', logLevel: 'warn' });
  });
  afterAll(async () => {
    await Promise.all(subscriptions.map((s) => s.stop()));
    await bus.close();
    await admin.close();
  });

  it('dead-letters the input with the broker reason, and the messages behind it go on', async () => {
    const input = `too-large.in.${randomUUID()}`;
    const output = `too-large.out.${randomUUID()}`;
    // Under load the broker may answer the leader wait with UNKNOWN_TOPIC_OR_PARTITION; creating again is a no-op.
    await waitFor(() => admin.createTopics([input], 1).then(() => true), 'the input topic');
    await waitFor(() => admin.createTopics([output], 1, { 'max.message.bytes': '20000' }).then(() => true), 'the output topic');
    const collect = async (topic: string) => {
      const got: IncomingMessage[] = [];
      subscriptions.push(await bus.subscribe({ group: `c-${randomUUID()}`, topics: [topic], handle: async (m) => void got.push(m) }));
      return got;
    };
    const out = await collect(output);
    const dlq = await collect(`${input}.dlq`);
    subscriptions.push(
      await bus.subscribe({
        group: `too-large-${randomUUID()}`,
        topics: [input],
        handle: async (m, ctx) => {
          const value = m.value.toString();
          ctx.publishMessage({ topic: output, key: 'k', value: value === 'big' ? 'x'.repeat(50_000) : `out-${value}` });
        },
      }),
    );
    await bus.publishMessages(['a', 'big', 'b', 'c'].map((value) => ({ topic: input, key: 'k', value })));
    await waitFor(() => dlq.length === 1 && out.length === 3, 'the dead letter and three outputs', 60_000).catch((e) => {
      throw new Error(`${e.message}: ${dlq.length} dead letters, outputs ${out.map((m) => m.value.toString())}`);
    });
    expect(out.map((m) => m.value.toString())).toEqual(['out-a', 'out-b', 'out-c']);
    expect(dlq[0].value.toString()).toBe('big');
    expect(dlq[0].headers[DLQ_HEADERS.errorName]).toBe('MessageTooLargeError');
    expect(dlq[0].headers[DLQ_HEADERS.error]).toMatch(/^the broker refused an output as too large: /);
  }, 90_000);
});
