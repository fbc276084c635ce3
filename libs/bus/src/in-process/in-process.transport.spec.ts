import { busContract } from '../bus.contract';
import { batchContract } from '../batch.contract';
import { InProcessTransport } from './in-process.transport';

busContract('in-process', () => new InProcessTransport());

batchContract('in-process', () => new InProcessTransport());

describe('in-process transport: retention of a topic nobody has read', () => {
  const kb = (i: number) => ({ topic: 't', key: 'k', value: Buffer.from(String(i).padEnd(1024, '.')), headers: {} });

  /** The offsets a group reading from the beginning receives, after `count` messages were sent before it joined. */
  async function keptAfter(transport: InProcessTransport, count: number, make = kb): Promise<number[]> {
    for (let i = 0; i < count; i += 100) await transport.send(Array.from({ length: Math.min(100, count - i) }, (_, j) => make(i + j)));
    const seen: number[] = [];
    const subscription = await transport.consume({ group: 'late', topics: ['t'], fromBeginning: true, onMessage: async (m) => (seen.push(Number(m.offset)), []) });
    const end = count - 1;
    for (let i = 0; i < 500 && seen.at(-1) !== end; i++) await new Promise((r) => setTimeout(r, 10));
    await subscription.stop();
    await transport.close();
    return seen;
  }

  it('keeps the newest values that fit in retainBytes, in order', async () => {
    const seen = await keptAfter(new InProcessTransport({ retainBytes: 2_000 * 1024 }), 5_000);
    expect(seen).toEqual(Array.from({ length: 2_000 }, (_, i) => 3_000 + i));
  });

  it('keeps at most retainMessages when those take fewer bytes', async () => {
    const seen = await keptAfter(new InProcessTransport({ retainMessages: 1_500, retainBytes: 64 * 1024 * 1024 }), 5_000);
    expect(seen).toEqual(Array.from({ length: 1_500 }, (_, i) => 3_500 + i));
  });

  it('keeps at least the last 1,000 messages, whatever their size', async () => {
    const seen = await keptAfter(new InProcessTransport({ retainBytes: 10 * 1024 }), 3_000);
    expect(seen).toEqual(Array.from({ length: 1_000 }, (_, i) => 2_000 + i));
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
