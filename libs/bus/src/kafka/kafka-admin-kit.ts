import type { Admin } from 'kafkajs';
import { kitKafka, type KafkaKitOptions } from './kafka-kit-client';

/** One partition's position: an end offset (the next one written) or a group's committed offset. */
export interface PartitionOffset {
  partition: number;
  /** A decimal string, as Kafka offsets are 64-bit; `-1` for a group that committed nothing there. */
  offset: string;
}

/** A consumer group as its coordinator reports it. */
export interface GroupState {
  group: string;
  /** Kafka's group state: `Stable`, `PreparingRebalance`, `CompletingRebalance`, `Empty` or `Dead` (unknown group). */
  state: string;
  members: number;
}

/**
 * Topics, offsets and consumer groups of a Kafka cluster, over one admin connection opened
 * at the first call. close() when done.
 */
export class KafkaAdminKit {
  private admin?: Promise<Admin>;

  constructor(private readonly options: KafkaKitOptions) {}

  private connected(): Promise<Admin> {
    this.admin ??= (async () => {
      const admin = kitKafka(this.options).admin();
      await admin.connect();
      return admin;
    })();
    return this.admin;
  }

  /**
   * Creates those of `topics` that do not exist yet, and waits until their partitions have
   * leaders. `config`: topic-level settings, e.g. `{ 'max.message.bytes': '20000' }`.
   */
  async createTopics(topics: readonly string[], numPartitions = 3, config: Record<string, string> = {}): Promise<void> {
    const admin = await this.connected();
    const existing = new Set(await admin.listTopics());
    const missing = [...new Set(topics)].filter((t) => !existing.has(t));
    const configEntries = Object.entries(config).map(([name, value]) => ({ name, value }));
    if (missing.length > 0) await admin.createTopics({ waitForLeaders: true, topics: missing.map((topic) => ({ topic, numPartitions, configEntries })) });
  }

  async listTopics(): Promise<string[]> {
    return (await this.connected()).listTopics();
  }

  /**
   * The end of each partition of `topic` (its high watermark: the offset the next message
   * gets). Right after a topic is created its leaders may not answer yet (NOT_LEADER_FOR_PARTITION).
   */
  async topicEndOffsets(topic: string): Promise<PartitionOffset[]> {
    const offsets = await (await this.connected()).fetchTopicOffsets(topic);
    return offsets.map((p) => ({ partition: p.partition, offset: p.high }));
  }

  /** What `group` committed on each partition of `topic` (`-1` where nothing). */
  async committedOffsets(group: string, topic: string): Promise<PartitionOffset[]> {
    const [committed] = await (await this.connected()).fetchOffsets({ groupId: group, topics: [topic] });
    return (committed?.partitions ?? []).map((p) => ({ partition: p.partition, offset: p.offset }));
  }

  /** State and member count of each group, in the order asked. */
  async describeGroups(groups: readonly string[]): Promise<GroupState[]> {
    const { groups: described } = await (await this.connected()).describeGroups([...groups]);
    return described.map((g) => ({ group: g.groupId, state: g.state, members: g.members.length }));
  }

  /** Ids of the cluster's consumer groups. */
  async listGroups(): Promise<string[]> {
    return (await (await this.connected()).listGroups()).groups.map((g) => g.groupId);
  }

  /** Deletes groups that have no members (their committed offsets go with them). */
  async deleteGroups(groups: readonly string[]): Promise<void> {
    await (await this.connected()).deleteGroups([...groups]);
  }

  async close(): Promise<void> {
    const admin = await this.admin?.catch(() => undefined);
    this.admin = undefined;
    await admin?.disconnect();
  }
}
