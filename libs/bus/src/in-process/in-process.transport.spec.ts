import { busContract } from '../bus.contract';
import { batchContract } from '../batch.contract';
import { InProcessTransport, type InProcessTransportOptions } from './in-process.transport';

busContract('in-process', () => new InProcessTransport(), {
  retaining: (retainMessages, warn) => new InProcessTransport({ retainMessages, logger: { warn } }),
});

batchContract('in-process', () => new InProcessTransport());

describe('in-process transport: retention', () => {
  const kb = (i: number) => ({ topic: 't', key: 'k', value: Buffer.from(String(i).padEnd(1024, '.')), headers: {} });

  async function sendAll(transport: InProcessTransport, count: number): Promise<void> {
    for (let i = 0; i < count; i += 100) await transport.send(Array.from({ length: Math.min(100, count - i) }, (_, j) => kb(i + j)));
  }

  /** The offsets a group reading from the beginning receives once it has the last one. */
  async function readAll(transport: InProcessTransport, group: string, end: number): Promise<number[]> {
    const seen: number[] = [];
    const subscription = await transport.consume({ group, topics: ['t'], fromBeginning: true, onMessage: async (m) => (seen.push(Number(m.offset)), []) });
    for (let i = 0; i < 500 && seen.at(-1) !== end; i++) await new Promise((r) => setTimeout(r, 10));
    await subscription.stop();
    return seen;
  }

  /** What a late group gets after `count` messages were sent before it joined, with the gap it was told of. */
  async function keptAfter(options: InProcessTransportOptions, count: number) {
    const warnings: string[] = [];
    const transport = new InProcessTransport({ ...options, logger: { warn: (m) => warnings.push(m) } });
    await sendAll(transport, count);
    const seen = await readAll(transport, 'late', count - 1);
    await transport.close();
    return { seen, gaps: transport.joinGaps(), warnings };
  }

  it('keeps the newest values that fit in retainBytes, in order, and tells a late group what it missed', async () => {
    const { seen, gaps, warnings } = await keptAfter({ retainBytes: 2_000 * 1024 }, 5_000);
    expect(seen).toEqual(Array.from({ length: 2_000 }, (_, i) => 3_000 + i));
    expect(gaps).toEqual([{ group: 'late', topic: 't', missed: 3_000, firstOffset: 3_000 }]);
    expect(warnings).toEqual([expect.stringContaining('group "late" joined "t" after retention dropped its first 3000 messages')]);
  });

  it('keeps at most retainMessages when those take fewer bytes', async () => {
    const { seen, gaps } = await keptAfter({ retainMessages: 1_500, retainBytes: 64 * 1024 * 1024 }, 5_000);
    expect(seen).toEqual(Array.from({ length: 1_500 }, (_, i) => 3_500 + i));
    expect(gaps).toEqual([{ group: 'late', topic: 't', missed: 3_500, firstOffset: 3_500 }]);
  });

  it('keeps at least the last 1,000 messages, whatever their size', async () => {
    const { seen } = await keptAfter({ retainBytes: 10 * 1024 }, 3_000);
    expect(seen).toEqual(Array.from({ length: 1_000 }, (_, i) => 2_000 + i));
  });

  it('keeps everything with retainBytes Infinity: a late group sees no gap and no warning', async () => {
    const { seen, gaps, warnings } = await keptAfter({ retainMessages: 20_000, retainBytes: Infinity }, 20_000);
    expect(seen).toHaveLength(20_000);
    expect(seen[0]).toBe(0);
    expect(gaps).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('retains what other groups have read as well: a late group gets the same as on a topic nobody read', async () => {
    const warnings: string[] = [];
    const transport = new InProcessTransport({ retainMessages: 4_000, logger: { warn: (m) => warnings.push(m) } });
    await (await transport.consume({ group: 'early', topics: ['t'], onMessage: async () => [] })).stop();
    await sendAll(transport, 5_000);
    expect(await readAll(transport, 'early', 4_999)).toHaveLength(5_000);
    await transport.send([kb(5_000)]); // retention applies when a topic grows
    // before: a topic that a group had read was cut to its last 1,000 messages
    expect(await readAll(transport, 'late', 5_000)).toEqual(Array.from({ length: 4_000 }, (_, i) => 1_001 + i));
    expect(transport.joinGaps()).toEqual([{ group: 'late', topic: 't', missed: 1_001, firstOffset: 1_001 }]);
    expect(warnings).toHaveLength(1);
    await transport.close();
  });

  it('never drops what a group has still to read, however many bytes wait', async () => {
    const transport = new InProcessTransport({ retainBytes: 1024 });
    const seen: number[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const subscription = await transport.consume({
      group: 'slow',
      topics: ['t'],
      fromBeginning: true,
      onMessage: async (m) => {
        await held;
        seen.push(Number(m.offset));
        return [];
      },
    });
    for (let i = 0; i < 5_000; i += 100) await transport.send(Array.from({ length: 100 }, (_, j) => kb(i + j)));
    release();
    for (let i = 0; i < 500 && seen.length < 5_000; i++) await new Promise((r) => setTimeout(r, 10));
    await subscription.stop();
    await transport.close();
    expect(seen).toEqual(Array.from({ length: 5_000 }, (_, i) => i));
  });
});
