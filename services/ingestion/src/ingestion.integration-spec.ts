import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { KafkaRawProducer, observeKafka, startGroupsAtEnd, type KafkaKitOptions, type Subscription } from '@mlops/bus';
import { applyOnce, openDataSource } from '@mlops/persistence';
import { infraEnv } from '../../../test/infra/infra-env';
import { freePort, ServiceProcess } from '../../../test/support/service-process';
import { waitFor } from '../../../test/support/wait-for';

/**
 * Reads data.validated / data.rejected as a downstream service would: read_committed, and
 * applying each event id once (its effect and the id commit together in Postgres). It starts
 * at the topics' current end, so a broker holding earlier runs' events is not replayed.
 */
async function observe(kafka: KafkaKitOptions, source: string, db?: { dataSource: DataSource; service: string }) {
  const validated: { id: string; recordId: string }[] = [];
  const applied: string[] = [];
  const rejected: { reasons: { field: string }[] }[] = [];
  const groupId = `observer-${randomUUID()}`;
  await startGroupsAtEnd(kafka, { [groupId]: ['data.validated', 'data.rejected'] });
  const consumer = await observeKafka(kafka, { group: groupId, topics: ['data.validated', 'data.rejected'], fromBeginning: true }, async ({ topic, value }) => {
    const event = JSON.parse(value.toString());
    if (event.data.source !== source) return;
    if (topic === 'data.validated') {
      validated.push({ id: event.id, recordId: event.data.recordId });
      if (db) {
        const outcome = await applyOnce(db.dataSource, db.service, 'observer', event.id, async () => event.data.recordId);
        if (outcome.applied) applied.push(outcome.result);
      }
    } else rejected.push(event.data);
  });
  return { validated, applied, rejected, consumer };
}

describe('ingestion on real Kafka and Postgres (own process, production entry point)', () => {
  const infra = infraEnv();
  const kafka: KafkaKitOptions = { clientId: 'ingestion-it', brokers: infra.KAFKA_BROKERS.split(','), logLevel: 'warn' };
  const consumers: Subscription[] = [];
  let ingestion: ServiceProcess;
  let url: string;
  const observerService = `obs${Date.now()}`;
  let observerDb: DataSource;

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    ingestion = new ServiceProcess('ingestion', {
      BUS: 'kafka',
      KAFKA_BROKERS: infra.KAFKA_BROKERS,
      DATABASE_URL: infra.DATABASE_URL,
      INGESTION_PORT: String(port),
      // A stable instance id is what lets a restarted instance fence its killed predecessor's
      // open transaction instead of waiting for it to time out.
      INSTANCE_ID: `it-${randomUUID()}`,
      INGESTION_GROUP: `ingestion-it-${randomUUID()}`,
    });
    ingestion.start();
    await ingestion.waitUntilReady(`${url}/health/ready`);
    observerDb = await openDataSource({ service: observerService, url: infra.DATABASE_URL, entities: [], migrations: [] });
  });
  afterAll(async () => {
    await observerDb?.query(`DROP TABLE IF EXISTS ${observerService}_processed_events, ${observerService}_migrations`);
    await observerDb?.destroy();
    await Promise.all(consumers.map((c) => c.stop()));
    await ingestion.stop();
  });

  const register = async (source: string) => {
    const response = await fetch(`${url}/sources/${source}/contract`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fields: { id: { type: 'integer' }, value: { type: 'number', min: 0 } }, idField: 'id' }),
    });
    expect(response.status).toBe(200);
  };

  it('publishes an HTTP batch to Kafka: accepted to data.validated, rejects with reasons to data.rejected', async () => {
    const source = `http${Date.now()}`;
    await register(source);
    const seen = await observe(kafka, source);
    consumers.push(seen.consumer);
    const response = await fetch(`${url}/sources/${source}/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ records: [{ id: 1, value: 1 }, { id: 2, value: -1 }, { id: 3, value: 'x' }] }),
    });
    expect(await response.json()).toMatchObject({ accepted: 1, rejected: 2 });
    await waitFor(() => seen.validated.length === 1 && seen.rejected.length === 2, 'the events on Kafka');
    expect(seen.rejected.map((r) => r.reasons[0].field)).toEqual(['value', 'value']);
  });

  it('loses no accepted record and duplicates none when killed -9 mid-stream and restarted', async () => {
    const source = `crash${Date.now()}`;
    const total = 3_000;
    await register(source);
    const seen = await observe(kafka, source, { dataSource: observerDb, service: observerService });
    consumers.push(seen.consumer);

    const producer = await KafkaRawProducer.connect(kafka);
    const produceAll = (async () => {
      for (let start = 0; start < total; start += 100) {
        const messages = Array.from({ length: 100 }, (_, i) => ({
          key: String((start + i) % 17),
          value: JSON.stringify({ id: start + i, value: start + i }),
        }));
        await producer.send(`raw.${source}`, messages);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    await waitFor(() => seen.validated.length >= 300, 'ingestion to be mid-stream', 60_000).catch((e) => {
      throw new Error(`${e.message}; ingestion output:\n${ingestion.output.join('').slice(-3_000)}`);
    });
    await ingestion.kill();
    const atKill = seen.validated.length;
    await produceAll;
    await producer.close();
    expect(atKill).toBeLessThan(total);
    console.log(`killed ingestion (SIGKILL) after ${atKill} of ${total} records were validated; restarting`);

    ingestion.start();
    await ingestion.waitUntilReady(`${url}/health/ready`);
    await waitFor(() => seen.applied.length >= total, `all ${total} records applied downstream`, 120_000);
    // One more record per key, so per raw partition, after them: ingestion handles a partition in
    // order, and this source's data.validated share one partition (no entity key: the subject is
    // the source), so once the observer has all of them, any late redelivery before them is in.
    const markers = await KafkaRawProducer.connect(kafka);
    await markers.send(`raw.${source}`, Array.from({ length: 17 }, (_, k) => ({ key: String(k), value: JSON.stringify({ id: total + k, value: 0 }) })));
    await markers.close();
    const isMarker = (recordId: string) => Number(recordId) >= total;
    await waitFor(() => new Set(seen.validated.filter((v) => isMarker(v.recordId)).map((v) => v.recordId)).size === 17, 'the 17 marker records', 60_000);
    const validated = seen.validated.filter((v) => !isMarker(v.recordId));
    const applied = seen.applied.filter((recordId) => !isMarker(recordId));
    const recordIds = new Set(validated.map((v) => v.recordId));
    const eventIdsPerRecord = new Map<string, Set<string>>();
    for (const v of validated) {
      if (!eventIdsPerRecord.has(v.recordId)) eventIdsPerRecord.set(v.recordId, new Set());
      eventIdsPerRecord.get(v.recordId)!.add(v.id);
    }
    console.log(
      `after restart: ${validated.length} data.validated deliveries, ${recordIds.size} distinct records, ` +
        `${applied.length} applied by the idempotent consumer`,
    );
    // Nothing lost: every produced record was validated.
    expect(recordIds.size).toBe(total);
    // A redelivered record is the same event (same id), never a second one...
    expect([...eventIdsPerRecord.values()].every((ids) => ids.size === 1)).toBe(true);
    // ...so the downstream effect happens exactly once per record.
    expect(applied).toHaveLength(total);
    expect(new Set(applied).size).toBe(total);
    expect(seen.rejected).toHaveLength(0);
  });
});
