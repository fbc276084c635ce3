import { randomUUID } from 'node:crypto';
import { infraEnv } from '../../../../test/infra/infra-env';
import { waitFor } from '../../../../test/support/wait-for';
import type { IncomingMessage, Subscription } from '../transport';
import { KafkaAdminKit } from './kafka-admin-kit';
import { startGroupsAtEnd } from './kafka-groups';
import type { KafkaKitOptions } from './kafka-kit-client';
import { observeKafka } from './kafka-observer';
import { KafkaRawProducer } from './kafka-raw-producer';

/** The Kafka ops kit on the real broker: what tests, test support and benchmarks rely on. */
describe('kafka ops kit (real broker)', () => {
  const kafka: KafkaKitOptions = { clientId: 'kafka-kit-it', brokers: infraEnv().KAFKA_BROKERS.split(','), logLevel: 'nothing' };
  // Not raw.*: the loop tests' ingestion groups read every raw.<source> topic.
  const topic = `kit-it.${randomUUID()}`;
  const admin = new KafkaAdminKit(kafka);
  let producer: KafkaRawProducer;
  const subscriptions: Subscription[] = [];

  beforeAll(async () => {
    await admin.createTopics([topic], 2);
    producer = await KafkaRawProducer.connect(kafka);
  });
  afterAll(async () => {
    await Promise.all(subscriptions.map((s) => s.stop()));
    await producer?.close();
    await admin.close();
  });

  const ends = async () => (await admin.topicEndOffsets(topic)).sort((a, b) => a.partition - b.partition);

  it('creates a topic with its partitions (once: creating it again changes nothing)', async () => {
    await admin.createTopics([topic], 5);
    expect(await admin.listTopics()).toContain(topic);
    expect(await ends()).toEqual([
      { partition: 0, offset: '0' },
      { partition: 1, offset: '0' },
    ]);
  });

  it('an observer gets every raw record: topic, partition, offset, key, value, headers', async () => {
    const seen: IncomingMessage[] = [];
    subscriptions.push(await observeKafka(kafka, { group: `kit-it-${randomUUID()}`, topics: [topic], fromBeginning: true }, (m) => void seen.push(m)));
    await producer.send(topic, [
      { key: 'k', value: 'not an event', headers: { 'x-test': 'one' } },
      { key: 'k', value: Buffer.from('second') },
    ]);
    await waitFor(() => seen.length === 2, 'both records');
    expect(seen.map((m) => ({ topic: m.topic, offset: m.offset, key: m.key, value: m.value.toString(), headers: m.headers }))).toEqual([
      { topic, offset: '0', key: 'k', value: 'not an event', headers: { 'x-test': 'one' } },
      { topic, offset: '1', key: 'k', value: 'second', headers: {} },
    ]);
    expect(seen[1].partition).toBe(seen[0].partition);
    expect((await ends()).reduce((sum, p) => sum + Number(p.offset), 0)).toBe(2);
  });

  it('startGroupsAtEnd commits the ends: the group reads only what comes after, and is reported while it reads', async () => {
    const group = `kit-it-${randomUUID()}`;
    const before = await ends();
    await startGroupsAtEnd(kafka, { [group]: [topic] });
    expect((await admin.committedOffsets(group, topic)).sort((a, b) => a.partition - b.partition)).toEqual(before);

    const seen: string[] = [];
    const observer = await observeKafka(kafka, { group, topics: [topic], fromBeginning: true }, (m) => void seen.push(m.value.toString()));
    await producer.send(topic, [{ key: 'later', value: 'after the start' }]);
    await waitFor(() => seen.length === 1, 'the record sent after the start');
    expect(seen).toEqual(['after the start']);
    expect(await admin.describeGroups([group])).toEqual([{ group, state: 'Stable', members: 1 }]);
    expect(await admin.listGroups()).toContain(group);

    await observer.stop();
    await admin.deleteGroups([group]);
    expect(await admin.listGroups()).not.toContain(group);
  });
});
