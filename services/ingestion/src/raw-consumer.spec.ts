import { EventBus, InProcessTransport, type ConsumeOptions, type Subscription } from '@mlops/bus';
import { RawConsumer } from './raw-consumer';
import type { IngestionService } from './ingestion.service';

/** An in-process transport whose consumers take a while to join, as Kafka's do. */
class SlowJoiningTransport extends InProcessTransport {
  live = 0;
  maxLive = 0;
  subscribed: string[][] = [];

  override async consume(options: ConsumeOptions): Promise<Subscription> {
    await new Promise((r) => setTimeout(r, 30));
    const inner = await super.consume(options);
    this.subscribed.push(options.topics);
    this.live++;
    this.maxLive = Math.max(this.maxLive, this.live);
    return {
      stop: async () => {
        await new Promise((r) => setTimeout(r, 10));
        this.live--;
        await inner.stop();
      },
    };
  }
}

/** The parts of IngestionService the raw consumer uses. */
function sourcesOf(initial: string[]) {
  const sources = [...initial];
  const listeners: (() => void)[] = [];
  const service = {
    sources: () => [...sources],
    onSourcesChanged: (listener: () => void) => void listeners.push(listener),
    eventForRawMessage: () => ({ type: 'data.validated', data: {} }),
  } as unknown as IngestionService;
  const add = (source: string) => {
    sources.push(source);
    listeners.forEach((l) => l());
  };
  return { service, add };
}

const quietLog = { log: () => undefined, error: (m: string) => expect.fail(m) };

describe('RawConsumer', () => {
  it('never runs two subscriptions at once when sources change while the first one is joining', async () => {
    const transport = new SlowJoiningTransport();
    const { service, add } = sourcesOf(['a']);
    const raw = new RawConsumer(service, new EventBus(transport), { raw: { group: 'ingestion' } }, quietLog);

    const starting = raw.start();
    add('b'); // registered through the HTTP API before the first subscription has joined
    await starting;
    add('c');
    add('d');
    await raw.stop();

    expect(transport.maxLive).toBe(1);
    expect(transport.live).toBe(0);
    expect(transport.subscribed.at(-1)).toEqual(['raw.a', 'raw.b', 'raw.c', 'raw.d']);
    await transport.close();
  });

  it('subscribes nothing after stop, even for a source added while stopping', async () => {
    const transport = new SlowJoiningTransport();
    const { service, add } = sourcesOf(['a']);
    const raw = new RawConsumer(service, new EventBus(transport), { raw: { group: 'ingestion' } }, quietLog);
    await raw.start();

    const stopping = raw.stop();
    add('b');
    await stopping;
    // (Re)subscriptions run one after another: a second stop() resolves after the restart that
    // add('b') queued has run, so whatever it would have subscribed is visible now.
    await raw.stop();

    expect(transport.live).toBe(0);
    expect(transport.subscribed).toEqual([['raw.a']]);
    await transport.close();
  });
});
