import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KafkaAdminKit, KafkaRawProducer, observeKafka, startGroupsAtEnd, type KafkaKitOptions } from '@mlops/bus';
import { infraEnv } from '../infra/infra-env';
import { FeatureStoreProcess, produceValidated, writeAmountView } from '../support/feature-store-process';
import { restartServer } from '../support/infra-control';
import { freePort, ServiceProcess } from '../support/service-process';
import { waitFor } from '../support/wait-for';

/**
 * Faults injected into real processes on loopback, each bounded in count and time. After
 * each, every event the producer had acknowledged must have its effect exactly once.
 */
describe('fault injection (real Kafka, Postgres, Redis; services as processes)', () => {
  const infra = infraEnv();
  const kafka: KafkaKitOptions = { clientId: 'faults', brokers: infra.KAFKA_BROKERS.split(','), logLevel: 'nothing', retry: { retries: 20, initialRetryTime: 200, maxRetryTime: 2_000 } };
  const report: string[] = [];
  let dir: string;
  afterAll(() => {
    console.log(`\nfault injection report\n${report.map((l) => `  ${l}`).join('\n')}\n`);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'faults-'));
    const admin = new KafkaAdminKit(kafka);
    await admin.createTopics(['data.validated', 'data.validated.dlq', 'data.rejected', 'retrain.requested', 'dataset.materialized']).finally(() => admin.close());
  });

  /**
   * A feature store of its own view and group, the group starting at the topics' ends: a new
   * group would otherwise read the whole data.validated history of the shared broker (every
   * earlier test's events, ignored one by one) before this test's events.
   */
  async function featureStore(source: string): Promise<FeatureStoreProcess> {
    writeAmountView(dir, source);
    const store = new FeatureStoreProcess(dir, source);
    await startGroupsAtEnd(kafka, { [store.group]: ['data.validated'], [`${store.group}.retrain`]: ['retrain.requested'] });
    return store;
  }

  async function dlqCount(source: string): Promise<number> {
    let count = 0;
    const consumer = await observeKafka(kafka, { group: `faults-dlq-${randomUUID()}`, topics: ['data.validated.dlq'], fromBeginning: true }, (message) => {
      if (message.value.toString().includes(`"source":"${source}"`)) count++;
    });
    await sleep(3_000);
    await consumer.stop();
    return count;
  }

  it('kill -9 of the feature store mid-stream, then restart: every event applied exactly once', async () => {
    const source = `kill_${Date.now()}`;
    const store = await featureStore(source);
    await store.start();
    const producer = await KafkaRawProducer.connect(kafka, { idempotent: true });
    let killedAt = 0;
    try {
      const acknowledged = await produceValidated(producer, source, 2_000, 100, 100, async (sent) => {
        if (sent === 800) {
          await store.kill();
          killedAt = sent;
          await store.start();
        }
      });
      await producer.close();
      const rows = await waitFor(async () => ((await store.rows()) === acknowledged ? acknowledged : undefined), `${acknowledged} history rows`, 90_000).catch(async () => store.rows());
      report.push(`kill -9 feature store after ${killedAt} of ${acknowledged} events, restarted with the same INSTANCE_ID -> ${rows} history rows (expected ${acknowledged})`);
      expect(rows).toBe(acknowledged);
    } finally {
      await store.stop();
    }
  }, 240_000);

  it('Postgres restarted under the feature store: nothing dead-lettered, every event applied exactly once', async () => {
    const source = `pg_${Date.now()}`;
    const store = await featureStore(source);
    await store.start();
    const producer = await KafkaRawProducer.connect(kafka, { idempotent: true });
    let outage = { downMs: 0, restartMs: 0 };
    try {
      const acknowledged = await produceValidated(producer, source, 1_500, 100, 100, async (sent) => {
        if (sent === 500) outage = await restartServer('postgres', 2_000);
      });
      await producer.close();
      const rows = await waitFor(async () => ((await store.rows()) === acknowledged ? acknowledged : undefined), `${acknowledged} history rows`, 120_000).catch(async () => store.rows());
      const dead = await dlqCount(source);
      report.push(`Postgres stopped (fast shutdown) after 500 of ${acknowledged} events, down ${outage.downMs} ms, back in ${outage.restartMs} ms -> ${rows} history rows (expected ${acknowledged}), ${dead} dead letters (expected 0)`);
      expect({ rows, dead }).toEqual({ rows: acknowledged, dead: 0 });
    } finally {
      await store.stop();
    }
  }, 240_000);

  it('Kafka broker restarted under ingestion: every acknowledged raw record validated under exactly one event id', async () => {
    const source = `broker_${Date.now()}`;
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const ingestion = new ServiceProcess('ingestion', {
      BUS: 'kafka',
      KAFKA_BROKERS: infra.KAFKA_BROKERS,
      // Its own contract store: with the shared Postgres this new group would subscribe to the
      // raw topics of every source earlier tests registered and work through their history
      // (about 20,000 records after the loop tests) before reaching this test's records.
      DATABASE_URL: `sqlite:${join(dir, `${source}-ingestion.db`)}`,
      INGESTION_PORT: String(port),
      INGESTION_GROUP: `faults-${source}`,
      INSTANCE_ID: `ingestion-${randomUUID()}`,
    });
    const admin = new KafkaAdminKit(kafka);
    await admin.createTopics([`raw.${source}`]).finally(() => admin.close());
    ingestion.start();
    try {
      await ingestion.waitUntilReady(`${url}/health/ready`, 90_000);
      const registered = await fetch(`${url}/sources/${source}/contract`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ fields: { id: { type: 'integer' }, value: { type: 'number' } }, idField: 'id' }),
      });
      expect(registered.status).toBe(200);

      const idsByRecord = new Map<string, Set<string>>();
      // The observer starts at the end of data.validated: on the shared broker the topic holds
      // every earlier test's history, which it would otherwise read through first.
      const observerGroup = `faults-observer-${randomUUID()}`;
      await startGroupsAtEnd(kafka, { [observerGroup]: ['data.validated'] });
      const observer = await observeKafka(kafka, { group: observerGroup, topics: ['data.validated'], fromBeginning: true }, (message) => {
        const event = JSON.parse(message.value.toString());
        if (event.data.source !== source) return;
        const ids = idsByRecord.get(event.data.recordId) ?? new Set<string>();
        idsByRecord.set(event.data.recordId, ids.add(event.id));
      });

      // Not idempotent: a producer whose sequence state an outage broke would be refused for
      // ever (OutOfOrderSequence); a record sent twice keeps its id, which is what is checked.
      const producer = await KafkaRawProducer.connect(kafka, { idempotent: false });
      const total = 1_500;
      let acknowledged = 0;
      let outage = { downMs: 0, restartMs: 0 };
      let failedSends = 0;
      for (let start = 0; start < total; start += 100) {
        const messages = Array.from({ length: 100 }, (_, k) => ({ value: JSON.stringify({ id: start + k, value: start + k }) }));
        // A send that fails during the outage is retried until Kafka acknowledges it: the
        // producer's duty; a record sent twice keeps its id, so it is validated once.
        for (;;) {
          try {
            await producer.send(`raw.${source}`, messages);
            break;
          } catch {
            failedSends++;
            await sleep(500);
          }
        }
        acknowledged += messages.length;
        if (acknowledged === 500) {
          // The fault is a restart under a consumer that is running: wait until it validates.
          await waitFor(() => idsByRecord.size > 0, 'ingestion validating before the fault', 60_000);
          outage = await restartServer('kafka', 2_000);
        }
        await sleep(100);
      }
      await producer.close();
      await waitFor(() => idsByRecord.size === acknowledged, `${acknowledged} validated records`, 120_000).catch(() => undefined);
      await observer.stop();
      const twoIds = [...idsByRecord.values()].filter((ids) => ids.size > 1).length;
      report.push(
        `Kafka broker stopped after 500 of ${acknowledged} raw records, down ${outage.downMs} ms, back in ${outage.restartMs} ms (${failedSends} producer sends retried) -> ${idsByRecord.size} records validated (expected ${acknowledged}), ${twoIds} with more than one event id (expected 0)`,
      );
      if (idsByRecord.size !== acknowledged) console.log(`ingestion output:\n${ingestion.output.join('').slice(-6_000)}`);
      expect({ validated: idsByRecord.size, twoIds }).toEqual({ validated: acknowledged, twoIds: 0 });
    } finally {
      await ingestion.stop();
    }
  }, 360_000);
});
