// data.validated events of the benchmark's source, built with the platform's own contracts
// (dist/libs/contracts), and a producer on the benchmark's brokers (dist/libs/bus's KafkaRawProducer).
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { ROOT } from './common.mjs';

const require = createRequire(import.meta.url);
const { createEvent } = require(resolve(ROOT, 'dist/libs/contracts/src/index.js'));
const { KafkaRawProducer } = require(resolve(ROOT, 'dist/libs/bus/src/index.js'));

export function validated(source, record) {
  return createEvent('data.validated', {
    source: 'bench',
    subject: record.user,
    data: { source, recordId: `${record.user}@${record.ts}`, contractVersion: 1, record },
  });
}

export const message = (event) => ({ key: event.subject, value: JSON.stringify(event) });

/** send(topic, messages) acknowledged by all replicas; close() when done. */
export function producer(clientId) {
  return KafkaRawProducer.connect({ clientId, brokers: process.env.KAFKA_BROKERS.split(','), logLevel: 'warn' }, { idempotent: false });
}
