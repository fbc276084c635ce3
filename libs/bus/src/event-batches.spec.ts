import { randomUUID } from 'node:crypto';
import { createEvent, type EventEnvelope } from '@mlops/contracts';
import { startTelemetry } from '@mlops/telemetry';
import { waitFor } from '../../../test/support/wait-for';
import { DLQ_HEADERS } from './delivery-policy';
import { EventBus } from './event-bus';
import { InProcessTransport } from './in-process/in-process.transport';
import type { IncomingMessage } from './transport';

const registered = (subject: string, version: number) =>
  createEvent('model.registered', { source: 'batch-test', subject, data: { model: subject, version, artifactHash: `sha256:${version}` } });

describe('EventBus.subscribeEventBatches (in-process)', () => {
  let transport: InProcessTransport;
  let bus: EventBus;
  beforeEach(() => {
    transport = new InProcessTransport();
    bus = new EventBus(transport, { retry: { maxAttempts: 3, initialBackoffMs: 10, maxBackoffMs: 50 } });
  });
  afterEach(() => bus.close());

  /** The first `count` messages of a topic, read by a group of its own. */
  async function transportMessages(topic: string, count: number): Promise<IncomingMessage[]> {
    const seen: IncomingMessage[] = [];
    const sub = await bus.subscribe({ group: `read-${randomUUID()}`, topics: [topic], handle: async (m) => void seen.push(m) });
    await waitFor(() => seen.length >= count, `${count} messages of ${topic}`);
    await sub.stop();
    return seen;
  }

  it('hands over typed events, and sends a message that breaks the contract to the DLQ at once, leaving it out', async () => {
    const good = [registered('m', 1), registered('m', 2), registered('m', 3)];
    const broken = { ...registered('m', 9), data: { model: 'm', version: -1, artifactHash: 'x' } };
    await bus.publishMessages([
      { topic: 'model.registered', key: 'm', value: JSON.stringify(good[0]) },
      { topic: 'model.registered', key: 'm', value: JSON.stringify(broken) },
      { topic: 'model.registered', key: 'm', value: 'not json' },
      { topic: 'model.registered', key: 'm', value: JSON.stringify(good[1]) },
      { topic: 'model.registered', key: 'm', value: JSON.stringify(good[2]) },
    ]);
    const dlq: IncomingMessage[] = [];
    await bus.subscribe({ group: 'dlq', topics: ['model.registered.dlq'], handle: async (m) => void dlq.push(m) });
    const batches: EventEnvelope<'model.registered'>[][] = [];
    await bus.subscribeEventBatches({ group: 'typed', types: ['model.registered'], handleBatch: async (events) => void batches.push(events) });
    await waitFor(() => batches.flat().length === 3 && dlq.length === 2, 'three events and two dead letters');
    // One more event after them: once its batch is handed over, nothing before it can still come.
    const marker = registered('m', 4);
    await bus.publish(marker);
    await waitFor(() => batches.flat().some((e) => e.id === marker.id), 'the marker event');
    expect(batches).toEqual([good, [marker]]);
    expect(dlq.map((m) => m.headers[DLQ_HEADERS.attempts])).toEqual(['1', '1']);
    expect(dlq[0].headers[DLQ_HEADERS.error]).toContain('data.version');
    expect(dlq[1].value.toString()).toBe('not json');
  });

  it('dead-letters a lone broken message through the per-message path (one attempt)', async () => {
    await bus.publishMessages([{ topic: 'model.registered', key: 'm', value: '{}' }]);
    const dlq: IncomingMessage[] = [];
    await bus.subscribe({ group: 'dlq', topics: ['model.registered.dlq'], handle: async (m) => void dlq.push(m) });
    let calls = 0;
    await bus.subscribeEventBatches({ group: 'typed', types: ['model.registered'], handleBatch: async () => void calls++ });
    await waitFor(() => dlq.length === 1, 'the dead letter');
    expect(dlq[0].headers[DLQ_HEADERS.attempts]).toBe('1');
    expect(calls).toBe(0);
  });

  it('publishes what a batch handler emits with the batch, once, from the batch\'s own span', async () => {
    const telemetry = startTelemetry('batch-test');
    onTestFinished(() => telemetry.shutdown());
    await bus.publish(registered('e', 1));
    await bus.publish(registered('e', 2));
    const out: IncomingMessage[] = [];
    await bus.subscribe({ group: 'out', topics: ['batch.out'], handle: async (m) => void out.push(m) });
    await bus.subscribeEventBatches({
      group: 'emit',
      types: ['model.registered'],
      handleBatch: async (events, ctx) => ctx.publishMessage({ topic: 'batch.out', value: events.map((e) => e.data.version).join(',') }),
    });
    await waitFor(() => out.length === 1, 'the emitted message');
    // One more event after them: once its own batch's output is out, the first batch's is final.
    await bus.publish(registered('e', 3));
    await waitFor(() => out.length >= 2, 'the marker batch output');
    expect(out.map((m) => m.value.toString())).toEqual(['1,2', '3']);
    // one span for the batch: a trace of its own (linked to both producers), not either producer's
    const traceOf = (traceparent?: string) => traceparent?.split('-')[1];
    const producers = (await transportMessages('model.registered', 3)).slice(0, 2).map((m) => traceOf(m.headers.traceparent));
    expect(producers).toHaveLength(2);
    expect(traceOf(out[0].headers.traceparent)).toMatch(/^[0-9a-f]{32}$/);
    expect(producers).not.toContain(traceOf(out[0].headers.traceparent));
  });
});
