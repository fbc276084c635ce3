import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { context, trace } from '@opentelemetry/api';
import { createEvent, type EventEnvelope } from '@mlops/contracts';
import { startTelemetry, type Telemetry } from '@mlops/telemetry';
import { waitFor } from '../../../test/support/wait-for';
import { DLQ_HEADERS } from './delivery-policy';
import { EventBus } from './event-bus';
import { messageBytes, TRUNCATION_HEADERS } from './message-limits';
import type { IncomingMessage, MessageTransport, Subscription } from './transport';

const FAST_RETRY = { maxAttempts: 3, initialBackoffMs: 10, maxBackoffMs: 50 };

function registered(subject: string, version: number) {
  return createEvent('model.registered', {
    source: 'contract-test',
    subject,
    data: { model: subject, version, artifactHash: `sha256:${version}` },
  });
}

/** A transport that drops old messages by its own retention and reports what a late group missed. */
export type RetainingTransport = MessageTransport & { joinGaps(): { group: string; topic: string; missed: number; firstOffset: number }[] };

export interface BusContractOptions {
  /**
   * For an adapter whose retention the test can set (in-process): a transport keeping at most
   * `retainMessages` per topic, warning through `warn`. Kafka's retention is the broker's, so
   * its contract run leaves this out and the late-join-after-retention case is not registered.
   */
  retaining?: (retainMessages: number, warn: (message: string) => void) => RetainingTransport;
}

/**
 * The delivery contract every bus adapter must keep. Run against the in-process adapter
 * (unit tier) and a real Kafka broker (integration tier).
 */
export function busContract(name: string, makeTransport: () => MessageTransport | Promise<MessageTransport>, options: BusContractOptions = {}) {
  describe(`bus contract: ${name}`, () => {
    let bus: EventBus;
    let telemetry: Telemetry;
    const subscriptions: Subscription[] = [];
    const group = (label: string) => `contract-${label}-${randomUUID()}`;
    const rawTopic = (label: string) => `contract.${label}.${randomUUID()}`;

    beforeAll(async () => {
      // Sampled traces (the SDK's default, as with an exporter), so the trace test below sees the sampled flag travel.
      telemetry = startTelemetry('bus-contract', { ...process.env, OTEL_TRACES_SAMPLER: process.env.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on' });
      bus = new EventBus(await makeTransport(), { retry: FAST_RETRY });
    });
    afterEach(async () => {
      await Promise.all(subscriptions.splice(0).map((s) => s.stop()));
    });
    afterAll(async () => {
      await bus.close();
      await telemetry.shutdown();
    });

    async function collect(topics: string[], g = group('collect'), filter: (m: IncomingMessage) => boolean = () => true) {
      const received: IncomingMessage[] = [];
      subscriptions.push(
        await bus.subscribe({ group: g, topics, handle: async (m) => void (filter(m) && received.push(m)) }),
      );
      return received;
    }

    it('delivers a published event to a subscriber, typed and intact', async () => {
      const subject = `m-${randomUUID()}`;
      const got: EventEnvelope<'model.registered'>[] = [];
      subscriptions.push(
        await bus.subscribeEvents({
          group: group('typed'),
          types: ['model.registered'],
          handle: async (e) => void (e.subject === subject && got.push(e)),
        }),
      );
      const sent = registered(subject, 1);
      await bus.publish(sent);
      await waitFor(() => got.length === 1, 'the event');
      expect(got[0]).toEqual(sent);
    });

    it('gives every consumer group every event, and keeps order per key', async () => {
      const topic = rawTopic('groups');
      const a = await collect([topic], group('a'));
      const b = await collect([topic], group('b'));
      const values = Array.from({ length: 30 }, (_, i) => String(i));
      for (const v of values) await bus.publishMessages([{ topic, key: 'same-key', value: v }]);
      await waitFor(() => a.length === 30 && b.length === 30, 'both groups to get 30 messages').catch((e) => {
        throw new Error(`${e.message}: group a got ${a.length}, group b got ${b.length}`);
      });
      expect(a.map((m) => m.value.toString())).toEqual(values);
      expect(b.map((m) => m.value.toString())).toEqual(values);
    });

    it('publishes a batch all together', async () => {
      const topic = rawTopic('batch');
      const got = await collect([topic]);
      await bus.publishMessages(Array.from({ length: 10 }, (_, i) => ({ topic, key: `k${i % 3}`, value: `v${i}` })));
      await waitFor(() => got.length === 10, '10 messages');
      expect(new Set(got.map((m) => m.value.toString())).size).toBe(10);
    });

    it('resumes a group after its last acknowledged message', async () => {
      const topic = rawTopic('resume');
      const g = group('resume');
      const first: string[] = [];
      const sub = await bus.subscribe({ group: g, topics: [topic], handle: async (m) => void first.push(m.value.toString()) });
      await bus.publishMessages([1, 2, 3].map((i) => ({ topic, key: 'k', value: `a${i}` })));
      await waitFor(() => first.length === 3, 'the first three');
      await sub.stop();
      await bus.publishMessages([4, 5].map((i) => ({ topic, key: 'k', value: `a${i}` })));
      const second: string[] = [];
      subscriptions.push(
        await bus.subscribe({ group: g, topics: [topic], handle: async (m) => void second.push(m.value.toString()) }),
      );
      await waitFor(() => second.length >= 2, 'the two new messages');
      await sleep(300);
      expect(second).toEqual(['a4', 'a5']);
    });

    it('gives a group that joins late every retained message, from the oldest, in order', async () => {
      const topic = rawTopic('late');
      const values = Array.from({ length: 50 }, (_, i) => `m${i}`);
      await bus.publishMessages(values.map((value) => ({ topic, key: 'k', value })));
      const early = await collect([topic], group('early'));
      await waitFor(() => early.length === 50, 'the first group to read all 50');
      const late = await collect([topic], group('late'));
      await waitFor(() => late.length === 50, 'the late group to read all 50').catch((e) => {
        throw new Error(`${e.message}: it got ${late.length}`);
      });
      expect(late.map((m) => m.value.toString())).toEqual(values);
    });

    if (options.retaining) {
      const retaining = options.retaining;
      it('a group joining after retention dropped messages starts at the oldest kept one, with a warning and a counted gap', async () => {
        const warnings: string[] = [];
        const transport = retaining(1_000, (message) => warnings.push(message));
        const own = new EventBus(transport, { retry: FAST_RETRY });
        const topic = rawTopic('retained');
        try {
          await own.publishMessages(Array.from({ length: 1_500 }, (_, i) => ({ topic, key: 'k', value: `m${i}` })));
          const g = group('after-retention');
          const got: string[] = [];
          subscriptions.push(await own.subscribe({ group: g, topics: [topic], handle: async (m) => void got.push(m.value.toString()) }));
          await waitFor(() => got.length === 1_000, 'the 1,000 kept messages');
          expect(got[0]).toBe('m500');
          expect(got.at(-1)).toBe('m1499');
          expect(transport.joinGaps()).toEqual([{ group: g, topic, missed: 500, firstOffset: 500 }]);
          expect(warnings).toHaveLength(1);
          expect(warnings[0]).toContain(`group "${g}" joined "${topic}" after retention dropped its first 500 messages`);
          // A group that joined before the drop keeps everything it has not read, however old.
          const h = group('before-retention');
          const held: string[] = [];
          const early = await own.subscribe({ group: h, topics: [`${topic}.2`], handle: async (m) => void held.push(m.value.toString()) });
          await early.stop();
          await own.publishMessages(Array.from({ length: 1_500 }, (_, i) => ({ topic: `${topic}.2`, key: 'k', value: `n${i}` })));
          subscriptions.push(await own.subscribe({ group: h, topics: [`${topic}.2`], handle: async (m) => void held.push(m.value.toString()) }));
          await waitFor(() => held.length === 1_500, 'all 1,500 messages for the stopped group');
          expect(held[0]).toBe('n0');
          expect(transport.joinGaps()).toHaveLength(1);
        } finally {
          await Promise.all(subscriptions.splice(0).map((s) => s.stop()));
          await own.close();
        }
      });
    }

    it('retries a failing handler with backoff and applies the message once it succeeds', async () => {
      const topic = rawTopic('retry');
      let attempts = 0;
      const applied: string[] = [];
      subscriptions.push(
        await bus.subscribe({
          group: group('retry'),
          topics: [topic],
          handle: async (m) => {
            attempts++;
            if (attempts < 3) throw new Error('transient');
            applied.push(m.value.toString());
          },
        }),
      );
      const dlq = await collect([`${topic}.dlq`]);
      await bus.publishMessages([{ topic, key: 'k', value: 'x' }]);
      await waitFor(() => applied.length === 1, 'success on the third attempt');
      await sleep(300);
      expect(attempts).toBe(3);
      expect(dlq).toHaveLength(0);
    });

    it('sends a message whose handler keeps failing to <topic>.dlq with the reason, and moves on', async () => {
      const topic = rawTopic('poison');
      const ok: string[] = [];
      subscriptions.push(
        await bus.subscribe({
          group: group('poison'),
          topics: [topic],
          handle: async (m) => {
            if (m.value.toString() === 'poison') throw new Error('cannot digest poison');
            ok.push(m.value.toString());
          },
        }),
      );
      const dlq = await collect([`${topic}.dlq`]);
      await bus.publishMessages(['poison', 'fine'].map((value) => ({ topic, key: 'k', value })));
      await waitFor(() => dlq.length === 1 && ok.length === 1, 'the dead letter and the next message');
      expect(ok).toEqual(['fine']);
      expect(dlq[0].value.toString()).toBe('poison');
      expect(dlq[0].headers[DLQ_HEADERS.error]).toBe('cannot digest poison');
      expect(dlq[0].headers[DLQ_HEADERS.topic]).toBe(topic);
      expect(dlq[0].headers[DLQ_HEADERS.attempts]).toBe(String(FAST_RETRY.maxAttempts));
    });

    it('dead-letters an event that breaks its contract at once, naming the field', async () => {
      const subject = `bad-${randomUUID()}`;
      let handled = 0;
      subscriptions.push(
        await bus.subscribeEvents({ group: group('invalid'), types: ['model.registered'], handle: async (e) => void (e.subject === subject && handled++) }),
      );
      const dlq = await collect(['model.registered.dlq'], group('dlq'), (m) => m.key === subject);
      const broken = { ...registered(subject, 1), data: { model: subject, version: -2, artifactHash: 'x' } };
      await bus.publishMessages([{ topic: 'model.registered', key: subject, value: JSON.stringify(broken) }]);
      await waitFor(() => dlq.length === 1, 'the dead letter');
      expect(dlq[0].headers[DLQ_HEADERS.error]).toContain('data.version');
      expect(dlq[0].headers[DLQ_HEADERS.attempts]).toBe('1');
      expect(handled).toBe(0);
    });

    it('publishes what a handler emits only from its successful attempt', async () => {
      const input = rawTopic('emit-in');
      const output = rawTopic('emit-out');
      let attempts = 0;
      subscriptions.push(
        await bus.subscribe({
          group: group('emit'),
          topics: [input],
          handle: async (m, ctx) => {
            attempts++;
            ctx.publishMessage({ topic: output, key: m.key, value: `attempt-${attempts}` });
            if (attempts === 1) throw new Error('fail after emitting');
          },
        }),
      );
      const out = await collect([output]);
      await bus.publishMessages([{ topic: input, key: 'k', value: 'go' }]);
      await waitFor(() => out.length === 1, 'the emitted message');
      await sleep(300);
      expect(out.map((m) => m.value.toString())).toEqual(['attempt-2']);
    });

    it('continues the producer trace in the consumer (traceparent in headers)', async () => {
      const topic = rawTopic('trace');
      const seen: { traceparent?: string; traceId?: string }[] = [];
      subscriptions.push(
        await bus.subscribe({
          group: group('trace'),
          topics: [topic],
          handle: async (m) =>
            void seen.push({ traceparent: m.headers.traceparent, traceId: trace.getActiveSpan()?.spanContext().traceId }),
        }),
      );
      const tracer = trace.getTracer('contract');
      const root = tracer.startSpan('root');
      await context.with(trace.setSpan(context.active(), root), () =>
        bus.publishMessages([{ topic, key: 'k', value: 'traced' }]),
      );
      root.end();
      await waitFor(() => seen.length === 1, 'the traced message');
      const rootTrace = root.spanContext().traceId;
      expect(rootTrace).toMatch(/^[0-9a-f]{32}$/);
      expect(rootTrace).not.toMatch(/^0+$/);
      expect(seen[0].traceparent).toMatch(new RegExp(`^00-${rootTrace}-[0-9a-f]{16}-01$`));
      expect(seen[0].traceId).toBe(rootTrace);
    });

    describe('size limits', () => {
      const limits = { maxMessageBytes: 8_192, maxKeyBytes: 64 };
      let limited: EventBus;
      beforeAll(() => {
        limited = new EventBus(bus.transport, { retry: FAST_RETRY, limits });
      });

      it('dead-letters a consumed message over the key or message limit unparsed, with the limit, and moves on', async () => {
        const topic = rawTopic('oversize-in');
        const handled: string[] = [];
        subscriptions.push(
          await limited.subscribe({ group: group('oversize-in'), topics: [topic], handle: async (m) => void handled.push(m.value.toString().slice(0, 20)) }),
        );
        const dlq = await collect([`${topic}.dlq`]);
        const longKey = 'k'.repeat(100);
        await bus.publishMessages([
          { topic, key: 'k', value: 'first' },
          { topic, key: 'k', value: 'v'.repeat(20_000) },
          { topic, key: 'k', value: 'after-big-value' },
          { topic, key: longKey, value: 'long-key' },
        ]);
        await waitFor(() => dlq.length === 2 && handled.length === 2, 'two dead letters and the two fitting messages');
        expect(handled).toEqual(['first', 'after-big-value']);
        const big = dlq.find((m) => m.headers[DLQ_HEADERS.error].includes('BUS_MAX_MESSAGE_BYTES'))!;
        expect(big.headers[DLQ_HEADERS.error]).toMatch(/message of 2\d{4} bytes is over the 8192-byte limit/);
        expect(big.headers[DLQ_HEADERS.attempts]).toBe('1');
        // The dead letter itself fits: cut, with the original size.
        expect(big.headers[TRUNCATION_HEADERS.truncated]).toBe('true');
        expect(Number(big.headers[TRUNCATION_HEADERS.originalBytes])).toBeGreaterThan(20_000);
        expect(messageBytes(big)).toBeLessThanOrEqual(limits.maxMessageBytes);
        const keyed = dlq.find((m) => m.headers[DLQ_HEADERS.error].includes('BUS_MAX_KEY_BYTES'))!;
        expect(keyed.headers[DLQ_HEADERS.error]).toBe('key of 100 bytes is over the 64-byte limit (BUS_MAX_KEY_BYTES)');
        expect(keyed.value.toString()).toBe('long-key');
      });

      it('dead-letters the input of a handler whose output is over the limit, and the messages behind it go on', async () => {
        const input = rawTopic('oversize-out-in');
        const output = rawTopic('oversize-out');
        subscriptions.push(
          await limited.subscribe({
            group: group('oversize-out'),
            topics: [input],
            handle: async (m, ctx) => {
              const value = m.value.toString();
              ctx.publishMessage({ topic: output, key: 'k', value: value === 'grows' ? 'g'.repeat(10_000) : `out-${value}` });
            },
          }),
        );
        const out = await collect([output]);
        const dlq = await collect([`${input}.dlq`]);
        await bus.publishMessages(['a', 'grows', 'b', 'c'].map((value) => ({ topic: input, key: 'k', value })));
        await waitFor(() => dlq.length === 1 && out.length === 3, 'the dead letter and three outputs');
        expect(out.map((m) => m.value.toString())).toEqual(['out-a', 'out-b', 'out-c']);
        expect(dlq[0].value.toString()).toBe('grows');
        expect(dlq[0].headers[DLQ_HEADERS.errorName]).toBe('MessageTooLargeError');
        expect(dlq[0].headers[DLQ_HEADERS.error]).toMatch(new RegExp(`output to ${output} of 10\\d{3} bytes is over the 8192-byte limit \\(BUS_MAX_MESSAGE_BYTES\\)`));
      });

      it('refuses to publish a message over the limit, naming the limit, and sends none of its batch', async () => {
        const topic = rawTopic('oversize-publish');
        const got = await collect([topic]);
        await expect(
          limited.publishMessages([
            { topic, key: 'k', value: 'small' },
            { topic, key: 'k', value: 'x'.repeat(9_000) },
          ]),
        ).rejects.toThrow(/over the 8192-byte limit \(BUS_MAX_MESSAGE_BYTES\)/);
        await limited.publishMessages([{ topic, key: 'k', value: 'marker' }]);
        await waitFor(() => got.length >= 1, 'the marker');
        expect(got.map((m) => m.value.toString())).toEqual(['marker']);
      });

      it('publishes a message with a 256 KB key without holding the event loop; the value and order are kept', async () => {
        const topic = rawTopic('long-key');
        const got = await collect([topic]);
        const key = 'u'.repeat(256 * 1024);
        const delay = monitorEventLoopDelay({ resolution: 10 });
        delay.enable();
        await bus.publishMessages([1, 2, 3].map((i) => ({ topic, key, value: `v${i}` })));
        await waitFor(() => got.length === 3, 'the three messages');
        delay.disable();
        // kafkajs's own murmur2 of this key held the loop for about 8 s.
        expect(delay.max / 1e6).toBeLessThan(500);
        expect(got.map((m) => m.value.toString())).toEqual(['v1', 'v2', 'v3']);
        expect(Buffer.byteLength(got[0].key ?? '')).toBeLessThanOrEqual(limits.maxKeyBytes * 2);
      });
    });
  });
}
