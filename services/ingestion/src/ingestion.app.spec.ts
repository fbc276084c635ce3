import { EventBus, InProcessTransport, type Subscription } from '@mlops/bus';
import { ConfigError } from '@mlops/config';
import { decodeEvent, type AnyEvent, type EventEnvelope } from '@mlops/contracts';
import { waitFor } from '../../../test/support/wait-for';
import { startIngestion, type IngestionApp } from './ingestion.app';
import { loadIngestionConfig } from './ingestion.config';

const clicks = {
  fields: { id: { type: 'string' }, user: { type: 'string' }, amount: { type: 'number', min: 0 }, ts: { type: 'timestamp' } },
  idField: 'id',
  timestampField: 'ts',
  entityKeyField: 'user',
};
const noIds = { fields: { value: { type: 'number' } } };

describe('ingestion service (embedded: in-process bus, SQLite)', () => {
  let transport: InProcessTransport;
  let ingestion: IngestionApp;
  let observer: EventBus;
  let subscription: Subscription;
  const seen: AnyEvent[] = [];

  const http = (path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
    fetch(`${ingestion.url}${path}`, {
      method: init.method ?? 'GET',
      headers: { 'content-type': 'application/json', ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

  beforeAll(async () => {
    transport = new InProcessTransport();
    ingestion = await startIngestion(
      loadIngestionConfig({ DATABASE_URL: 'sqlite::memory:', INGESTION_PORT: '0', INGESTION_MAX_BATCH: '50' }),
      { inProcess: transport, logger: false },
    );
    observer = new EventBus(transport);
    subscription = await observer.subscribe({
      group: 'observer',
      topics: ['data.validated', 'data.rejected'],
      handle: async (m) => void seen.push(decodeEvent(m.value)),
    });
    expect((await http('/sources/clicks/contract', { method: 'PUT', body: clicks })).status).toBe(200);
    expect((await http('/sources/numbers/contract', { method: 'PUT', body: noIds })).status).toBe(200);
  });
  afterAll(async () => {
    await subscription.stop();
    await ingestion.close();
  });

  const validated = (source: string) =>
    seen.filter((e): e is EventEnvelope<'data.validated'> => e.type === 'data.validated' && e.data.source === source);
  const rejected = (source: string) =>
    seen.filter((e): e is EventEnvelope<'data.rejected'> => e.type === 'data.rejected' && e.data.source === source);

  it('versions contracts and keeps an identical re-registration at the same version', async () => {
    const again = await http('/sources/clicks/contract', { method: 'PUT', body: clicks });
    expect(again.body).toMatchObject({ version: 1, changed: false });
    const changed = await http('/sources/numbers/contract', { method: 'PUT', body: { fields: { value: { type: 'number', min: 0 } } } });
    expect(changed.body).toMatchObject({ version: 2, changed: true });
    expect((await http('/sources/numbers/contract')).body.version).toBe(2);
  });

  it('publishes accepted records as data.validated and rejects to data.rejected with reasons', async () => {
    const response = await http('/sources/clicks/records', {
      method: 'POST',
      body: {
        records: [
          { id: 'c1', user: 'u1', amount: 3, ts: '2026-01-01T00:00:00Z' },
          { id: 'c2', user: 'u2', amount: -4, ts: '2026-01-01T00:00:00Z' },
          { id: 'c3', user: 'u1', amount: 1, ts: 1767225600000 },
        ],
      },
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ accepted: 2, rejected: 1, contractVersion: 1 });
    expect(response.body.rejections).toEqual([{ index: 1, recordId: 'c2', reasons: [expect.objectContaining({ field: 'amount' })] }]);
    await waitFor(() => validated('clicks').length === 2 && rejected('clicks').length === 1, 'the three events');
    const [first] = validated('clicks');
    expect(first.subject).toBe('u1');
    expect(first.data).toMatchObject({ recordId: 'c1', entityKey: 'u1', eventTime: '2026-01-01T00:00:00.000Z' });
    expect(rejected('clicks')[0].data.reasons[0].field).toBe('amount');
  });

  it('gives a re-sent record the same event id, so consumers apply it once', async () => {
    const body = { records: [{ value: 1 }, { value: 2 }] };
    const headers = { 'idempotency-key': 'batch-42' };
    await http('/sources/numbers/records', { method: 'POST', body, headers });
    await http('/sources/numbers/records', { method: 'POST', body, headers });
    await waitFor(() => validated('numbers').length === 4, 'both sends');
    const ids = validated('numbers').map((e) => e.id);
    expect(new Set(ids).size).toBe(2);
  });

  it('validates records produced to raw.<source>, and rejects non-JSON with the reason', async () => {
    await transport.send([
      { topic: 'raw.clicks', key: 'u9', value: JSON.stringify({ id: 'k1', user: 'u9', amount: 5, ts: 0 }) },
      { topic: 'raw.clicks', key: 'u9', value: '{not json' },
    ]);
    await waitFor(() => validated('clicks').some((e) => e.data.recordId === 'k1'), 'the raw record');
    const bad = await waitFor(() => rejected('clicks').find((e) => e.data.reasons[0].message.includes('not valid JSON')), 'the reject');
    expect(bad.data.record).toBe('{not json');
  });

  it('starts consuming raw.<source> of a source registered while running', async () => {
    await http('/sources/late/contract', { method: 'PUT', body: noIds });
    await transport.send([{ topic: 'raw.late', value: JSON.stringify({ value: 7 }) }]);
    await waitFor(() => validated('late').length === 1, 'the late source record');
  });

  it('answers bad requests with the field and what was expected, and publishes nothing', async () => {
    const before = seen.length;
    const unknown = await http('/sources/nope/records', { method: 'POST', body: { records: [] } });
    expect(unknown).toMatchObject({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST' } });
    const notArray = await http('/sources/clicks/records', { method: 'POST', body: { rows: [] } });
    expect(notArray.status).toBe(400);
    expect(notArray.body.issues[0].field).toBe('records');
    const tooMany = await http('/sources/numbers/records', { method: 'POST', body: { records: Array(51).fill({ value: 1 }) } });
    expect(tooMany).toMatchObject({ status: 413, body: { error_code: 'REQUEST_LIMIT_EXCEEDED' } });
    const badContract = await http('/sources/x/contract', { method: 'PUT', body: { fields: { a: { type: 'float' } } } });
    expect(badContract.status).toBe(400);
    expect(badContract.body.issues[0].field).toBe('fields.a.type');
    const badName = await http('/sources/bad%20name/contract', { method: 'PUT', body: noIds });
    expect(badName.status).toBe(400);
    // A good request after them publishes one record to each topic; once the observer has both,
    // it has everything published before them (one log per topic, read in order).
    const marker = await http('/sources/numbers/records', { method: 'POST', body: { records: [{ value: 1234 }, { value: -1234 }] } });
    expect(marker.body).toMatchObject({ accepted: 1, rejected: 1 });
    await waitFor(() => validated('numbers').some((e) => e.data.record.value === 1234) && rejected('numbers').some((e) => (e.data.record as { value?: number }).value === -1234), 'the marker records');
    expect(seen.slice(before).map((e) => e.type).sort()).toEqual(['data.rejected', 'data.validated']);
  });

  it('reports readiness', async () => {
    expect((await http('/health/ready')).body).toMatchObject({ status: 'ok' });
  });
});

describe('ingestion with API_TOKEN set', () => {
  const token = 'ingestion-test-token-0123456789';
  let ingestion: IngestionApp;
  beforeAll(async () => {
    ingestion = await startIngestion(loadIngestionConfig({ DATABASE_URL: 'sqlite::memory:', INGESTION_PORT: '0', API_TOKEN: token }), { inProcess: new InProcessTransport(), logger: false });
  });
  afterAll(() => ingestion.close());

  const put = (headers: Record<string, string>) =>
    fetch(`${ingestion.url}/sources/guarded/contract`, { method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(noIds) });

  it('refuses a request without the bearer token with 401 and registers nothing', async () => {
    const response = await put({});
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error_code: 'UNAUTHENTICATED' });
    expect(ingestion.service.sources()).not.toContain('guarded');
  });

  it('accepts the bearer token, and leaves the probes and the Prometheus scrape open', async () => {
    expect((await put({ authorization: `Bearer ${token}` })).status).toBe(200);
    expect(ingestion.service.sources()).toContain('guarded');
    expect((await fetch(`${ingestion.url}/health/ready`)).status).toBe(200);
    const scrape = await fetch(`${ingestion.url}/metrics`);
    expect(scrape.status).toBe(200);
    const text = await scrape.text();
    // Counted by route template; refused ones never reach a route.
    expect(text).toMatch(/mlops_http_requests_total\{[^}]*method="PUT",route="unmatched",status="401"[^}]*\} 1/);
    expect(text).toMatch(/mlops_http_requests_total\{[^}]*method="PUT",route="\/sources\/:source\/contract",status="200"[^}]*\} 1/);
  });
});

describe('ingestion config', () => {
  it('starts with an empty environment (embedded defaults)', () => {
    const config = loadIngestionConfig({});
    expect(config).toMatchObject({ BUS: 'in-process', INGESTION_PORT: 3001, DATABASE_URL: 'sqlite:.mlops/ingestion.db' });
  });

  it('stops start-up naming each bad variable', () => {
    let error: unknown;
    try {
      loadIngestionConfig({ BUS: 'kafka', INGESTION_PORT: 'abc', DATABASE_URL: 'mysql://x' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const variables = (error as ConfigError).problems.map((p) => p.variable).sort();
    expect(variables).toEqual(['DATABASE_URL', 'INGESTION_PORT', 'KAFKA_BROKERS']);
  });
});
