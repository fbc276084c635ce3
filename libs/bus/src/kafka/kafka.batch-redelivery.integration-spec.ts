import { randomUUID } from 'node:crypto';
import { infraEnv } from '../../../../test/infra/infra-env';
import { waitFor } from '../../../../test/support/wait-for';
import { EventBus } from '../event-bus';
import type { IncomingMessage, Subscription } from '../transport';
import { KafkaTransport } from './kafka.transport';

/** The consumer's side of exactly-once: effects and processed ids kept together (a database in a service). */
class DedupingStore {
  readonly processed = new Set<string>();
  effects = 0;
  /** Applies the batch's new ids; returns the ids it had already applied. */
  apply(messages: IncomingMessage[]): string[] {
    const seen: string[] = [];
    for (const m of messages) {
      const id = m.value.toString();
      if (this.processed.has(id)) seen.push(id);
      else {
        this.processed.add(id);
        this.effects++;
      }
    }
    return seen;
  }
}

/**
 * A member that applied a batch but died before its offset commit (here: stuck in the
 * handler, so it misses its heartbeats and the broker drops it) must see its batch
 * redelivered to the group, and a consumer that dedupes by id must not apply it twice.
 */
describe('kafka batch delivery: commit, and redelivery after a crash before the commit (real broker)', () => {
  const brokers = () => infraEnv().KAFKA_BROKERS.split(',');
  const transports: KafkaTransport[] = [];
  const subscriptions: Subscription[] = [];
  const quiet = { warn: () => undefined, error: () => undefined };
  afterAll(async () => {
    await Promise.all(subscriptions.map((s) => s.stop()));
    await Promise.all(transports.map((t) => t.close()));
  });

  const member = (clientId: string) => {
    // 6 s is the broker's minimum session timeout: a stuck member is dropped soon after.
    const transport = new KafkaTransport({ brokers: brokers(), clientId, sessionTimeoutMs: 6_000, logger: quiet });
    transports.push(transport);
    return new EventBus(transport, { logger: quiet });
  };

  it('redelivers an applied but uncommitted batch to the group, deduped; commits a handled batch', async () => {
    const run = randomUUID();
    const topic = `batch.redelivery.${run}`;
    const group = `batch-redelivery-${run}`;
    const store = new DedupingStore();
    const ids = Array.from({ length: 30 }, (_, i) => `${run}-${i}`);
    const producer = member('batch-redelivery-producer');
    await producer.publishMessages(ids.map((value) => ({ topic, key: 'k', value })));

    // member A applies its first batch, then hangs before returning: no commit
    let release!: () => void;
    const hung = new Promise<void>((r) => (release = r));
    const appliedByA: string[] = [];
    const a = await member('batch-redelivery-a').subscribeBatches({
      group,
      topics: [topic],
      handleBatch: async (messages) => {
        store.apply(messages);
        appliedByA.push(...messages.map((m) => m.value.toString()));
        await hung;
      },
    });
    await waitFor(() => appliedByA.length > 1, 'member A to apply a batch');
    expect(store.effects).toBe(appliedByA.length);

    // member B joins the group; once A is dropped, B gets A's uncommitted batch again
    const redelivered: string[] = [];
    const handledByB: string[] = [];
    const b = await member('batch-redelivery-b').subscribeBatches({
      group,
      topics: [topic],
      handleBatch: async (messages) => {
        redelivered.push(...store.apply(messages));
        handledByB.push(...messages.map((m) => m.value.toString()));
      },
    });
    await waitFor(() => ids.every((id) => handledByB.includes(id)), 'member B to get every message', 60_000);
    expect(redelivered).toEqual(expect.arrayContaining(appliedByA));
    expect(store.effects).toBe(30);
    expect([...store.processed].sort()).toEqual([...ids].sort());
    // the zombie leaves; B committed what it handled: the group resumes after it
    release();
    await a.stop();
    await b.stop();
    const later = `${run}-later`;
    await producer.publishMessages([{ topic, key: 'k', value: later }]);
    const handledByC: string[] = [];
    subscriptions.push(
      await member('batch-redelivery-c').subscribeBatches({ group, topics: [topic], handleBatch: async (messages) => void handledByC.push(...messages.map((m) => m.value.toString())) }),
    );
    // Every message has key 'k' (one partition, delivered in order): anything C got again
    // would come before `later`, so once `later` is in, handledByC is complete.
    await waitFor(() => handledByC.includes(later), 'the message published after the commit', 60_000);
    expect(handledByC).toEqual([later]);
  }, 120_000);
});
