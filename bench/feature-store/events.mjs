// data.validated events of the benchmark's source, built with the platform's own contracts
// (dist/libs/contracts), and a kafkajs producer on the benchmark's brokers.
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { ROOT } from './common.mjs';

const require = createRequire(import.meta.url);
const { createEvent } = require(resolve(ROOT, 'dist/libs/contracts/src/index.js'));
const { Kafka, logLevel } = require('kafkajs');

export function validated(source, record) {
  return createEvent('data.validated', {
    source: 'bench',
    subject: record.user,
    data: { source, recordId: `${record.user}@${record.ts}`, contractVersion: 1, record },
  });
}

export const message = (event) => ({ key: event.subject, value: JSON.stringify(event) });

export async function producer(clientId) {
  const kafka = new Kafka({ clientId, brokers: process.env.KAFKA_BROKERS.split(','), logLevel: logLevel.WARN });
  const p = kafka.producer({ allowAutoTopicCreation: false });
  await p.connect();
  return p;
}
