import { waitFor } from './wait-for';
import type { Admin, Kafka } from 'kafkajs';

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
export async function startGroupsAtEnd(kafka: Kafka, admin: Admin, topicsByGroup: Record<string, readonly string[]>): Promise<void> {
  const topics = [...new Set(Object.values(topicsByGroup).flat())];
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t));
  if (missing.length > 0) await admin.createTopics({ waitForLeaders: true, topics: missing.map((topic) => ({ topic, numPartitions: 3 })) });
  const ends = new Map<string, { partition: number; offset: string }[]>();
  for (const topic of topics) {
    // A topic created a moment ago may not have its leader yet (NOT_LEADER_FOR_PARTITION): retry.
    const offsets = await waitFor(() => admin.fetchTopicOffsets(topic), `the end offsets of ${topic}`, 30_000);
    ends.set(
      topic,
      offsets.map((p) => ({ partition: p.partition, offset: p.high })),
    );
  }
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
