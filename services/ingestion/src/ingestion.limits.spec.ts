import { EventBus, InProcessTransport, type Subscription } from '@mlops/bus';
import { decodeEvent, type AnyEvent, type EventEnvelope } from '@mlops/contracts';
import { waitFor } from '../../../test/support/wait-for';
import { startIngestion, type IngestionApp } from './ingestion.app';
import { loadIngestionConfig } from './ingestion.config';

const contract = { fields: { id: { type: 'integer' }, user: { type: 'string' }, note: { type: 'string', required: false } }, idField: 'id', entityKeyField: 'user' };

describe('ingestion size limits and producer key/headers (embedded: in-process bus)', () => {
  let transport: InProcessTransport;
  let ingestion: IngestionApp;
  let subscription: Subscription;
  const seen: AnyEvent[] = [];

  beforeAll(async () => {
    transport = new InProcessTransport();
    ingestion = await startIngestion(
      loadIngestionConfig({ DATABASE_URL: 'sqlite::memory:', INGESTION_PORT: '0', BUS_MAX_MESSAGE_BYTES: '20000', BUS_MAX_KEY_BYTES: '100' }),
      { inProcess: transport, logger: false },
    );
    subscription = await new EventBus(transport).subscribe({
      group: 'observer',
      topics: ['data.validated', 'data.rejected'],
      handle: async (m) => void seen.push(decodeEvent(m.value)),
    });
    const put = await fetch(`${ingestion.url}/sources/users/contract`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(contract) });
    expect(put.status).toBe(200);
  });
  afterAll(async () => {
    await subscription.stop();
    await ingestion.close();
  });

  const validated = () => seen.filter((e): e is EventEnvelope<'data.validated'> => e.type === 'data.validated');
  const rejected = () => seen.filter((e): e is EventEnvelope<'data.rejected'> => e.type === 'data.rejected');

  it('rejects over HTTP a record whose event would be over BUS_MAX_MESSAGE_BYTES, naming the field and the limit', async () => {
    const response = await fetch(`${ingestion.url}/sources/users/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ records: [{ id: 1, user: 'u1' }, { id: 2, user: 'u2', note: 'n'.repeat(21_000) }] }),
    });
    const body = (await response.json()) as { rejections: unknown[] };
    expect(response.status).toBe(200);
    expect(body).toMatchObject({ accepted: 1, rejected: 1 });
    expect(body.rejections[0]).toEqual({
      index: 1,
      recordId: '2',
      reasons: [{ field: 'note', message: expect.stringMatching(/^the data\.validated event this record becomes is \d+ bytes, over the 20000-byte limit \(BUS_MAX_MESSAGE_BYTES\); field "note" takes 21002 bytes$/) }],
    });
    await waitFor(() => rejected().find((e) => e.data.recordId === '2'), 'the data.rejected event');
    // The rejection fits the limit: it keeps the start of the record, not all of it.
    const event = rejected().find((e) => e.data.recordId === '2')!;
    expect(typeof event.data.record).toBe('string');
    expect((event.data.record as string).startsWith('{"id":2,"user":"u2","note":"nnn')).toBe(true);
  });

  it('rejects a raw record or key over the limits unread, and keeps the producer key and headers of the others', async () => {
    await transport.send([
      { topic: 'raw.users', key: 'k'.repeat(101), value: JSON.stringify({ id: 10, user: 'u10' }) },
      { topic: 'raw.users', key: 'p', value: JSON.stringify({ id: 11, user: 'u11', note: 'x'.repeat(25_000) }) },
      { topic: 'raw.users', key: 'producer-key', value: JSON.stringify({ id: 12, user: 'u12' }), headers: { 'x-origin': 'test' } },
    ]);
    const good = await waitFor(() => validated().find((e) => e.data.recordId === '12'), 'the record behind the oversize ones');
    expect(good.data).toMatchObject({ producerKey: 'producer-key', headers: { 'x-origin': 'test' }, entityKey: 'u12' });
    const unread = rejected().filter((e) => e.data.recordId?.startsWith('raw.users:'));
    expect(unread.map((e) => e.data.reasons)).toEqual([
      [{ field: '(key)', message: 'raw record key of 101 bytes is over the 100-byte limit (BUS_MAX_KEY_BYTES)' }],
      [{ field: '(record)', message: expect.stringMatching(/^raw record message of 250\d\d bytes is over the 20000-byte limit \(BUS_MAX_MESSAGE_BYTES\)$/) }],
    ]);
    expect(validated().map((e) => e.data.recordId)).not.toContain('10');
    expect(validated().map((e) => e.data.recordId)).not.toContain('11');
  });

  it('names the limits in the config error when they are not positive byte counts', () => {
    expect(() => loadIngestionConfig({ BUS_MAX_MESSAGE_BYTES: '0' })).toThrow(/BUS_MAX_MESSAGE_BYTES: expected a positive number of bytes/);
    expect(() => loadIngestionConfig({ BUS_MAX_KEY_BYTES: 'lots' })).toThrow(/BUS_MAX_KEY_BYTES/);
  });
});
