import { setTimeout as sleep } from 'node:timers/promises';
import { KafkaAdminKit, type PartitionOffset } from './kafka-admin-kit';
import { kitKafka, type KafkaKitOptions } from './kafka-kit-client';

/** How long a topic created a moment ago may take to answer for its end offsets. */
const END_OFFSETS_TIMEOUT_MS = 30_000;

async function endOffsets(admin: KafkaAdminKit, topic: string): Promise<PartitionOffset[]> {
  const deadline = Date.now() + END_OFFSETS_TIMEOUT_MS;
  for (;;) {
    try {
      return await admin.topicEndOffsets(topic);
    } catch (error) {
      // A topic created a moment ago may not have its leader yet (NOT_LEADER_FOR_PARTITION): retry.
      if (Date.now() > deadline) throw new Error(`the end offsets of ${topic}: ${(error as Error).message}`);
      await sleep(50);
    }
  }
}

/**
 * Commits, for each new consumer group, the current end of each topic it will read. On the
 * shared test broker the event topics hold other tests' history; a group that starts from
 * the beginning would replay it. Started at the end, a group sees exactly what is published
 * from now on, as on the fresh broker docker-compose starts, and it misses nothing published
 * before its consumer joins. Missing topics are created (3 partitions, as the bus does).
 *
 * One short-lived member per group joins, commits every topic's end at once and leaves
 * (kafkajs's admin.setOffsets does the same per topic, waiting out a full fetch each time).
 */
export async function startGroupsAtEnd(options: KafkaKitOptions, topicsByGroup: Record<string, readonly string[]>): Promise<void> {
  const topics = [...new Set(Object.values(topicsByGroup).flat())];
  const admin = new KafkaAdminKit(options);
  const ends = new Map<string, PartitionOffset[]>();
  try {
    await admin.createTopics(topics);
    for (const topic of topics) ends.set(topic, await endOffsets(admin, topic));
  } finally {
    await admin.close();
  }
  const kafka = kitKafka(options);
  await Promise.all(
    Object.entries(topicsByGroup).map(async ([groupId, groupTopics]) => {
      const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, sessionTimeout: 10_000 });
      await consumer.connect();
      try {
        const unique = [...new Set(groupTopics)];
        await consumer.subscribe({ topics: unique, fromBeginning: false });
        const joined = new Promise<void>((done) => consumer.on(consumer.events.GROUP_JOIN, () => done()));
        // Nothing is handled or resolved here; only the commit below moves the group.
        await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: async () => undefined });
        await joined;
        consumer.pause(unique.map((topic) => ({ topic })));
        await consumer.commitOffsets(unique.flatMap((topic) => ends.get(topic)!.map((p) => ({ topic, ...p }))));
      } finally {
        await consumer.disconnect();
      }
    }),
  );
}
