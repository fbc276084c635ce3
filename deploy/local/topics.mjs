// Creates every event topic (and its .dlq) the platform uses before any service starts, so no
// consumer joins a topic whose partitions have no leader yet. Prints, for a person, how many
// events the topics already hold (history from earlier runs is replayed into new consumer groups).
// Run from the repository root after `npm run build`: node deploy/local/topics.mjs [--first-start]
// (--first-start: the platform's consumer groups are new; say what that means when history exists).
import { resolve } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const dist = (path) => require(resolve(process.cwd(), 'dist', path));
const { KafkaAdminKit } = dist('libs/bus/src/index.js');
const { EVENT_TYPES } = dist('libs/contracts/src/index.js');

const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
if (brokers.length === 0) {
  console.error('KAFKA_BROKERS is not set (source the env file deploy/local/up.sh writes)');
  process.exit(2);
}
const admin = new KafkaAdminKit({ clientId: 'mlops-local-topics', brokers, logLevel: 'nothing' });
try {
  const existing = new Set(await admin.listTopics());
  const topics = EVENT_TYPES.flatMap((type) => [type, `${type}.dlq`]);
  const missing = topics.filter((topic) => !existing.has(topic));
  await admin.createTopics(topics);
  let held = 0;
  for (const topic of EVENT_TYPES.filter((t) => existing.has(t))) {
    for (const partition of await admin.topicEndOffsets(topic)) held += Number(partition.offset);
  }
  console.log(`topics: ${topics.length} event and dead-letter topics ready (${missing.length} created); they already hold ${held} events`);
  if (held > 0 && process.argv.includes('--first-start')) {
    console.log('note: new consumer groups read their topics from the beginning, so these events (left by earlier runs: tests,');
    console.log('demos) are replayed into the services. To start clean: bash deploy/local/platform.sh stop --purge, then start again.');
  }
} finally {
  await admin.close();
}
