import { randomUUID } from 'node:crypto';
import { infraEnv } from '../../../../test/infra/infra-env';
import { waitFor } from '../../../../test/support/wait-for';
import type { Subscription } from '../transport';
import { KafkaTransport } from './kafka.transport';

/**
 * A consumer catching up on a backlog produces more per transaction than the broker's
 * 1 MB record-batch limit; the transport must cut it into requests instead of failing the
 * batch for ever with MESSAGE_TOO_LARGE.
 */
describe('kafka transport: outputs beyond the broker batch limit (real broker)', () => {
  const brokers = () => infraEnv().KAFKA_BROKERS.split(',');
  const transports: KafkaTransport[] = [];
  const subscriptions: Subscription[] = [];
  afterAll(async () => {
    await Promise.all(subscriptions.map((s) => s.stop()));
    await Promise.all(transports.map((t) => t.close()));
  });

  it('commits 3,000 outputs (about 1.6 MB) of one input in one transaction', async () => {
    const run = `${Date.now()}`;
    const [input, output] = [`raw.bulk_in_${run}`, `raw.bulk_out_${run}`];
    const tx = new KafkaTransport({ brokers: brokers(), clientId: 'bulk-tx', transactionalId: `bulk-${run}` });
    const plain = new KafkaTransport({ brokers: brokers(), clientId: 'bulk-plain' });
    transports.push(tx, plain);
    await plain.send([{ topic: input, key: 'k', value: Buffer.from('fan out'), headers: {} }]);
    let handled = 0;
    subscriptions.push(
      await tx.consume({
        group: `bulk-${randomUUID()}`,
        topics: [input],
        fromBeginning: true,
        onMessage: async () => {
          handled++;
          return Array.from({ length: 3_000 }, (_, i) => ({ topic: output, key: `k${i % 12}`, value: Buffer.from(`${i}:`.padEnd(540, 'x')), headers: {} }));
        },
      }),
    );
    const seen = new Set<string>();
    subscriptions.push(
      await plain.consume({
        group: `bulk-reader-${randomUUID()}`,
        topics: [output],
        fromBeginning: true,
        onMessage: async (m) => (seen.add(m.value.toString().split(':')[0]), []),
      }),
    );
    await waitFor(() => seen.size === 3_000, '3,000 outputs', 90_000);
    expect(handled).toBe(1);
  });
});
