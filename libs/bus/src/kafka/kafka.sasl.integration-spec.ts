import { randomUUID } from 'node:crypto';
import { loadConfig, busEnvSchema, withBusDefault } from '@mlops/config';
import { localKafkaSasl } from '../../../../test/infra/infra-env';
import { waitFor } from '../../../../test/support/wait-for';
import { createTransport } from '../bus.factory';
import type { MessageTransport, Subscription } from '../transport';

/** The services' Kafka SASL settings, from the environment through to a real SASL listener. */
describe('kafka over SASL/PLAIN (real broker, settings from the environment)', () => {
  const sasl = localKafkaSasl();
  const transportFor = (password: string) =>
    createTransport(
      loadConfig('sasl-test', busEnvSchema, withBusDefault({ KAFKA_BROKERS: sasl.brokers.join(','), KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: sasl.username, KAFKA_SASL_PASSWORD: password })),
      { service: 'sasl-test' },
    );
  const open: MessageTransport[] = [];
  const subscriptions: Subscription[] = [];
  afterAll(async () => {
    await Promise.all(subscriptions.map((s) => s.stop()));
    await Promise.all(open.map((t) => t.close().catch(() => undefined)));
  });

  it('produces and consumes with the configured credentials', async () => {
    const transport = transportFor(sasl.password);
    open.push(transport);
    const topic = `raw.sasl_${Date.now()}`;
    const seen: string[] = [];
    await transport.send([{ topic, key: 'k', value: Buffer.from('hello over sasl'), headers: {} }]);
    subscriptions.push(
      await transport.consume({ group: `sasl-${randomUUID()}`, topics: [topic], fromBeginning: true, onMessage: async (m) => (seen.push(m.value.toString()), []) }),
    );
    await waitFor(() => seen.length === 1, 'the message back over SASL', 60_000);
    expect(seen).toEqual(['hello over sasl']);
  });

  it('is refused by the broker with a wrong password, saying so', async () => {
    const transport = transportFor(`${sasl.password}-wrong`);
    open.push(transport);
    await expect(transport.send([{ topic: `raw.sasl_denied_${Date.now()}`, key: 'k', value: Buffer.from('x'), headers: {} }])).rejects.toThrow(/SASL|[Aa]uthentication/);
  });
});
