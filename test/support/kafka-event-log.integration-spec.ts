import { randomUUID } from 'node:crypto';
import { KafkaRawProducer, startGroupsAtEnd, type KafkaKitOptions } from '@mlops/bus';
import { createEvent } from '@mlops/contracts';
import { infraEnv } from '../infra/infra-env';
import { KafkaEventLog } from './kafka-event-log';
import { waitFor } from './wait-for';

describe('KafkaEventLog (real Kafka): a message of this run that breaks the contract fails the run', () => {
  const run = `evlog${randomUUID().slice(0, 8)}`;
  const kafka: KafkaKitOptions = { clientId: run, brokers: infraEnv().KAFKA_BROKERS.split(','), logLevel: 'nothing' };

  it('keeps this run\'s valid events, collects its broken ones, counts non-JSON, ignores other runs\' broken ones', async () => {
    const group = `${run}-observer`;
    await startGroupsAtEnd(kafka, { [group]: ['model.registered'] });
    const log = new KafkaEventLog(kafka, group, ['model.registered'], (e) => e.subject === run);
    await log.start();
    const producer = await KafkaRawProducer.connect(kafka);
    try {
      const valid = (version: number) => createEvent('model.registered', { source: 'evlog-test', subject: run, data: { model: run, version, artifactHash: 'a'.repeat(64) } });
      const broken = (subject: string) => JSON.stringify({ ...valid(9), subject, data: { model: subject, version: -1, artifactHash: 'x' } });
      // One key, one partition: the last valid event comes after the others.
      await producer.send('model.registered', [
        { key: run, value: JSON.stringify(valid(1)) },
        { key: run, value: broken(run) },
        { key: run, value: broken(`${run}-other`) },
        { key: run, value: 'not json' },
        { key: run, value: JSON.stringify(valid(2)) },
      ]);
      await waitFor(() => log.events.some((o) => o.event.type === 'model.registered' && o.event.data.version === 2), 'the last valid event', 60_000);
      expect(log.events.map((o) => (o.event.type === 'model.registered' ? o.event.data.version : undefined))).toEqual([1, 2]);
      expect(log.broken).toHaveLength(1);
      expect(log.broken[0]).toMatchObject({ topic: 'model.registered', error: expect.stringContaining('version') });
      expect(log.unreadable).toBe(1);
      expect(() => log.expectContractKept()).toThrow(/1 message\(s\) of this run broke the event contract:\nmodel\.registered\[\d\]@\d+/);
    } finally {
      await producer.close();
      await log.stop();
    }
  }, 90_000);
});
