import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../../../test/support/wait-for';
import { DLQ_HEADERS } from './delivery-policy';
import { EventBus } from './event-bus';
import type { IncomingMessage, MessageTransport, Subscription } from './transport';

const FAST_RETRY = { maxAttempts: 3, initialBackoffMs: 10, maxBackoffMs: 50 };

/**
 * The batch delivery contract (EventBus.subscribeBatches) every bus adapter must keep. Run
 * against the in-process adapter (unit tier) and a real Kafka broker (integration tier).
 * Messages are published before the subscription starts, so they wait as one backlog.
 */
export function batchContract(name: string, makeTransport: () => MessageTransport | Promise<MessageTransport>) {
  describe(`batch delivery contract: ${name}`, () => {
    let bus: EventBus;
    const subscriptions: Subscription[] = [];
    const group = (label: string) => `batch-${label}-${randomUUID()}`;
    const rawTopic = (label: string) => `batch.${label}.${randomUUID()}`;
    const values = (messages: IncomingMessage[]) => messages.map((m) => m.value.toString());

    beforeAll(async () => {
      bus = new EventBus(await makeTransport(), { retry: FAST_RETRY });
    });
    afterEach(async () => {
      await Promise.all(subscriptions.splice(0).map((s) => s.stop()));
    });
    afterAll(async () => {
      await bus.close();
    });

    async function collect(topics: string[]) {
      const received: IncomingMessage[] = [];
      subscriptions.push(await bus.subscribe({ group: group('collect'), topics, handle: async (m) => void received.push(m) }));
      return received;
    }

    it('hands a backlog over several messages at a time, in order, at most maxBatchSize a call', async () => {
      const topic = rawTopic('backlog');
      const sent = Array.from({ length: 20 }, (_, i) => `m${i}`);
      await bus.publishMessages(sent.map((value) => ({ topic, key: 'same-key', value })));
      const batches: string[][] = [];
      subscriptions.push(
        await bus.subscribeBatches({ group: group('backlog'), topics: [topic], maxBatchSize: 8, handleBatch: async (messages) => void batches.push(values(messages)) }),
      );
      await waitFor(() => batches.flat().length >= 20, '20 messages');
      await sleep(300);
      expect(batches.flat()).toEqual(sent);
      expect(Math.max(...batches.map((b) => b.length))).toBeGreaterThan(1);
      expect(batches.every((b) => b.length <= 8)).toBe(true);
    });

    it('resumes a group after its last acknowledged batch', async () => {
      const topic = rawTopic('resume');
      const g = group('resume');
      await bus.publishMessages(['a1', 'a2', 'a3'].map((value) => ({ topic, key: 'k', value })));
      const first: string[] = [];
      const sub = await bus.subscribeBatches({ group: g, topics: [topic], handleBatch: async (messages) => void first.push(...values(messages)) });
      await waitFor(() => first.length === 3, 'the first three');
      await sub.stop();
      await bus.publishMessages(['a4', 'a5'].map((value) => ({ topic, key: 'k', value })));
      const second: string[] = [];
      subscriptions.push(await bus.subscribeBatches({ group: g, topics: [topic], handleBatch: async (messages) => void second.push(...values(messages)) }));
      await waitFor(() => second.length >= 2, 'the two new messages');
      await sleep(300);
      expect(second).toEqual(['a4', 'a5']);
    });

    it('falls back to one message at a time when a batch fails: the poison one goes to the DLQ with its reason, the others apply once', async () => {
      const [input, output] = [rawTopic('poison-in'), rawTopic('poison-out')];
      await bus.publishMessages(['a', 'poison', 'b', 'c'].map((value) => ({ topic: input, key: 'k', value })));
      const dlq = await collect([`${input}.dlq`]);
      const out = await collect([output]);
      const calls: string[][] = [];
      const applied: string[] = [];
      subscriptions.push(
        await bus.subscribeBatches({
          group: group('poison'),
          topics: [input],
          handleBatch: async (messages, ctx) => {
            calls.push(values(messages));
            for (const m of messages) ctx.publishMessage({ topic: output, key: 'k', value: `out-${m.value}` });
            if (messages.some((m) => m.value.toString() === 'poison')) throw new Error('cannot digest poison');
            applied.push(...values(messages));
          },
        }),
      );
      await waitFor(() => dlq.length === 1 && applied.length === 3, 'the dead letter and the three good messages');
      await sleep(300);
      expect(calls[0]).toEqual(['a', 'poison', 'b', 'c']);
      expect(applied).toEqual(['a', 'b', 'c']);
      expect(dlq[0].value.toString()).toBe('poison');
      expect(dlq[0].headers[DLQ_HEADERS.error]).toBe('cannot digest poison');
      expect(dlq[0].headers[DLQ_HEADERS.topic]).toBe(input);
      expect(dlq[0].headers[DLQ_HEADERS.attempts]).toBe(String(FAST_RETRY.maxAttempts));
      // outputs only from successful runs: none from the failed batch or the poison's attempts
      expect(values(out)).toEqual(['out-a', 'out-b', 'out-c']);
    });

    it('runs a batch again while the infrastructure is out, without using up attempts or splitting it', async () => {
      const topic = rawTopic('outage');
      await bus.publishMessages(['x', 'y', 'z'].map((value) => ({ topic, key: 'k', value })));
      const dlq = await collect([`${topic}.dlq`]);
      let outages = 0;
      const applied: string[][] = [];
      subscriptions.push(
        await bus.subscribeBatches({
          group: group('outage'),
          topics: [topic],
          retry: { maxAttempts: 1 },
          handleBatch: async (messages) => {
            if (outages++ < 3) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
            applied.push(values(messages));
          },
        }),
      );
      await waitFor(() => applied.flat().length === 3, 'the batch applied once the database is back');
      await sleep(300);
      expect(applied).toEqual([['x', 'y', 'z']]);
      expect(dlq).toHaveLength(0);
    });

    it('dead-letters a message over the size limit out of a batch, unparsed, and an output over it through the one-at-a-time path', async () => {
      const limited = new EventBus(bus.transport, { retry: FAST_RETRY, limits: { maxMessageBytes: 4_096, maxKeyBytes: 64 } });
      const input = rawTopic('oversize');
      const output = rawTopic('oversize-out');
      await bus.publishMessages(['a', 'x'.repeat(5_000), 'b', 'grows', 'c'].map((value) => ({ topic: input, key: 'k', value })));
      const dlq = await collect([`${input}.dlq`]);
      const out = await collect([output]);
      const handled: string[] = [];
      subscriptions.push(
        await limited.subscribeBatches({
          group: group('oversize'),
          topics: [input],
          handleBatch: async (messages, ctx) => {
            for (const m of messages) {
              const value = m.value.toString();
              handled.push(value.slice(0, 10));
              ctx.publishMessage({ topic: output, key: 'k', value: value === 'grows' ? 'g'.repeat(5_000) : `out-${value}` });
            }
          },
        }),
      );
      await waitFor(() => dlq.length === 2 && out.length === 3, 'two dead letters and three outputs');
      expect(values(out)).toEqual(['out-a', 'out-b', 'out-c']);
      expect(handled).not.toContain('xxxxxxxxxx');
      const reasons = dlq.map((m) => m.headers[DLQ_HEADERS.error]).sort();
      expect(reasons[0]).toMatch(/^message of 50\d\d bytes is over the 4096-byte limit \(BUS_MAX_MESSAGE_BYTES\)$/);
      expect(reasons[1]).toMatch(new RegExp(`^output to ${output} of 50\\d\\d bytes is over the 4096-byte limit \\(BUS_MAX_MESSAGE_BYTES\\)$`));
      expect(dlq.find((m) => m.headers[DLQ_HEADERS.error].startsWith('output'))!.value.toString()).toBe('grows');
    });
  });
}
