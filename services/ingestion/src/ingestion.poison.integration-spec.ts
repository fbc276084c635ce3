import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { observeKafka, startGroupsAtEnd, type IncomingMessage, type KafkaKitOptions, type Subscription } from '@mlops/bus';
import { infraEnv } from '../../../test/infra/infra-env';
import { freePort, ServiceProcess } from '../../../test/support/service-process';
import { waitFor } from '../../../test/support/wait-for';

const KCAT = process.env.KCAT ?? '/usr/bin/kcat';
const KB = 1024;

/** Produces `lines` of `key<TAB>value` to one partition with kcat (librdkafka), not a Node client. */
function kcatProduce(brokers: string, topic: string, records: { key: string; value: string }[]): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(
      KCAT,
      ['-P', '-b', brokers, '-t', topic, '-p', '0', '-K', '\t', '-H', 'x-origin=kcat', '-X', 'message.max.bytes=1000000', '-c', String(records.length)],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', fail);
    child.once('exit', (code) => (code === 0 ? done() : fail(new Error(`kcat exited ${code}: ${stderr}`))));
    for (const r of records) child.stdin.write(`${r.key}\t${r.value}\n`);
    child.stdin.end();
  });
}

/** nodejs_eventloop_lag_max_seconds of a Prometheus scrape; prom-client resets it at every scrape. */
async function eventLoopLagMax(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = /^(?:\w+_)?nodejs_eventloop_lag_max_seconds(?:\{[^}]*\})? (\S+)$/m.exec(text);
  if (!match) throw new Error(`no nodejs_eventloop_lag_max_seconds in /metrics:\n${text.slice(0, 2_000)}`);
  return Number(match[1]);
}

interface Outcome {
  topic: string;
  key?: string;
  data: {
    recordId?: string;
    entityKey?: string;
    producerKey?: string;
    headers?: Record<string, string>;
    reasons?: { field: string; message: string }[];
  };
}

describe('ingestion: poison records from a non-Node producer (kcat) on real Kafka', () => {
  const infra = infraEnv();
  const kafka: KafkaKitOptions = { clientId: 'ingestion-poison-it', brokers: infra.KAFKA_BROKERS.split(','), logLevel: 'warn' };
  const source = `poison${Date.now()}`;
  const outcomes: Outcome[] = [];
  let observer: Subscription;
  let ingestion: ServiceProcess;
  let url: string;

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    ingestion = new ServiceProcess('ingestion', {
      BUS: 'kafka',
      KAFKA_BROKERS: infra.KAFKA_BROKERS,
      DATABASE_URL: infra.DATABASE_URL,
      INGESTION_PORT: String(port),
      INSTANCE_ID: `poison-${randomUUID()}`,
      INGESTION_GROUP: `ingestion-poison-${randomUUID()}`,
    });
    ingestion.start();
    await ingestion.waitUntilReady(`${url}/health/ready`);
    const group = `observer-${randomUUID()}`;
    const topics = ['data.validated', 'data.rejected', `raw.${source}.dlq`];
    await startGroupsAtEnd(kafka, { [group]: topics });
    observer = await observeKafka(kafka, { group, topics, fromBeginning: true }, ({ topic, key, value, headers }: IncomingMessage) => {
      if (topic.endsWith('.dlq')) return void outcomes.push({ topic, key, data: { reasons: [{ field: '', message: headers['dlq-error'] }] } });
      const event = JSON.parse(value.toString());
      if (event.data.source === source) outcomes.push({ topic, key, data: event.data });
    });
  });
  afterAll(async () => {
    await observer?.stop();
    await ingestion?.stop();
  });

  it('accounts for every record: validated once, or rejected naming the field and limit; the records behind the poison ones come out', async () => {
    const contract = {
      fields: { id: { type: 'integer' }, user: { type: 'string' }, value: { type: 'number', min: 0 }, note: { type: 'string', required: false } },
      idField: 'id',
      entityKeyField: 'user',
    };
    const put = await fetch(`${url}/sources/${source}/contract`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(contract) });
    expect(put.status).toBe(200);
    await waitFor(() => ingestion.output.join('').includes(`raw.${source}`), `ingestion to consume raw.${source}`);

    const good = (id: number) => ({ key: `k${id}`, value: JSON.stringify({ id, user: `u${id}`, value: id }) });
    const records = [
      ...[1, 2, 3, 4, 5].map(good),
      // The entity key becomes the data.validated Kafka key: 900 KB makes a 2.7 MB event.
      { key: 'huge-user', value: JSON.stringify({ id: 900, user: 'u'.repeat(900 * KB), value: 1 }) },
      // Fits as an event (about 770 KB); kafkajs's own murmur2 of this key took 8.4 s.
      { key: 'big-user', value: JSON.stringify({ id: 256, user: 'b'.repeat(256 * KB), value: 1 }) },
      // A 600 KB record that becomes a 1.3 MB event (user is subject, entityKey and record field).
      { key: 'grows', value: JSON.stringify({ id: 600, user: 'g'.repeat(200 * KB), value: 1, note: 'n'.repeat(400 * KB) }) },
      // A Kafka key over BUS_MAX_KEY_BYTES (16 KiB): rejected unread.
      { key: 'K'.repeat(20 * KB), value: JSON.stringify({ id: 20, user: 'u20', value: 1 }) },
      { key: 'bad', value: JSON.stringify({ id: 7, user: 'u7', value: -1 }) },
      ...Array.from({ length: 66 }, (_, i) => good(100 + i)),
    ];
    const goodIds = [1, 2, 3, 4, 5, 256, ...Array.from({ length: 66 }, (_, i) => 100 + i)];

    await eventLoopLagMax(url); // resets the service's event loop delay histogram
    let readyMaxMs = 0;
    let polling = true;
    const pollReady = (async () => {
      while (polling) {
        const started = performance.now();
        const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(10_000) });
        expect(response.status).toBe(200);
        readyMaxMs = Math.max(readyMaxMs, performance.now() - started);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    await kcatProduce(infra.KAFKA_BROKERS, `raw.${source}`, records);
    const validatedIds = () => outcomes.filter((o) => o.topic === 'data.validated').map((o) => Number(o.data.recordId));
    const rejected = () => outcomes.filter((o) => o.topic === 'data.rejected');
    try {
      await waitFor(() => validatedIds().length >= goodIds.length && rejected().length >= 4, 'every record accounted for', 60_000);
    } catch (error) {
      const summary = outcomes.filter((o) => o.topic !== 'data.validated').map((o) => `${o.topic} ${o.data.recordId}: ${JSON.stringify(o.data.reasons)?.slice(0, 300)}`);
      polling = false;
      await pollReady.catch(() => undefined);
      throw new Error(`${(error as Error).message}: ${validatedIds().length} validated; others:\n${summary.join('\n')}\ningestion:\n${ingestion.tail(40)}`);
    }
    // A marker produced after everything: once it is out, any duplicate of the above would be too.
    await kcatProduce(infra.KAFKA_BROKERS, `raw.${source}`, [good(9_999)]);
    await waitFor(() => validatedIds().includes(9_999), 'the marker');
    polling = false;
    await pollReady;
    const lagMaxSeconds = await eventLoopLagMax(url);
    console.log(`event loop lag max ${(lagMaxSeconds * 1000).toFixed(0)} ms; slowest /health/ready ${readyMaxMs.toFixed(0)} ms`);

    // Validated exactly once each (data.validated is keyed by user, so only per-user order holds),
    // the good records behind the poison ones included.
    expect(validatedIds().sort((a, b) => a - b)).toEqual([...goodIds, 9_999].sort((a, b) => a - b));
    const byReason = Object.fromEntries(rejected().map((r) => [r.data.recordId?.startsWith('raw.') ? 'key' : r.data.recordId, r.data.reasons!]));
    expect(Object.keys(byReason).sort()).toEqual(['600', '7', '900', 'key']);
    expect(byReason['900']).toEqual([
      { field: 'user', message: expect.stringMatching(/^the data\.validated event this record becomes is \d+ bytes, over the 1000000-byte limit \(BUS_MAX_MESSAGE_BYTES\); field "user" takes 92\d{4} bytes$/) },
    ]);
    expect(byReason['600']).toEqual([{ field: 'note', message: expect.stringMatching(/over the 1000000-byte limit \(BUS_MAX_MESSAGE_BYTES\); field "note"/) }]);
    expect(byReason['key']).toEqual([{ field: '(key)', message: 'raw record key of 20480 bytes is over the 16384-byte limit (BUS_MAX_KEY_BYTES)' }]);
    expect(byReason['7'][0].field).toBe('value');
    // Nothing needed the DLQ: every bad record was answered with data.rejected.
    expect(outcomes.filter((o) => o.topic.endsWith('.dlq'))).toEqual([]);

    // The long entity key: the Kafka key is a fixed-size hash, the full key stays in the event.
    const big = outcomes.find((o) => o.topic === 'data.validated' && o.data.recordId === '256')!;
    expect(big.key).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(big.data.entityKey).toBe('b'.repeat(256 * KB));
    // What the producer sent travels along.
    const first = outcomes.find((o) => o.topic === 'data.validated' && o.data.recordId === '1')!;
    expect(first.data.producerKey).toBe('k1');
    expect(first.data.headers).toEqual({ 'x-origin': 'kcat' });
    expect(first.key).toBe('u1');

    // No record held the event loop: measured in the service (perf_hooks monitorEventLoopDelay via prom-client).
    expect(lagMaxSeconds).toBeLessThan(1);
    expect(readyMaxMs).toBeLessThan(2_000);
  }, 240_000);
});
