import { partitionKey } from '../message-limits';
import type { OutgoingMessage } from '../transport';

/** Messages grouped per topic as kafkajs's sendBatch takes them, keys bounded. */
export function byTopic(messages: OutgoingMessage[]) {
  const grouped = new Map<string, { key?: string; value: Buffer | string; headers?: Record<string, string> }[]>();
  for (const m of messages) {
    if (!grouped.has(m.topic)) grouped.set(m.topic, []);
    // The partitioner hashes the key in the event loop: bounded here (see partitionKey).
    grouped.get(m.topic)!.push({ key: partitionKey(m.key), value: m.value, headers: m.headers });
  }
  return [...grouped.entries()].map(([topic, msgs]) => ({ topic, messages: msgs }));
}

/**
 * The broker refuses a record batch over `message.max.bytes` (1 MB by default) with
 * MESSAGE_TOO_LARGE, which kafkajs does not retry: a consumer catching up on a backlog would
 * fail on the same batch for ever. Produce requests are therefore cut at this many bytes.
 */
export const MAX_REQUEST_BYTES = 512 * 1024;

/** Consecutive slices of `messages` of at most `maxBytes` each (a larger single message alone). */
export function requestSizedChunks(messages: OutgoingMessage[], maxBytes = MAX_REQUEST_BYTES): OutgoingMessage[][] {
  const chunks: OutgoingMessage[][] = [];
  let chunk: OutgoingMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    let size = Buffer.byteLength(m.value) + (m.key ? Buffer.byteLength(m.key) : 0) + 64;
    for (const [k, v] of Object.entries(m.headers ?? {})) size += k.length + v.length;
    if (chunk.length > 0 && bytes + size > maxBytes) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(m);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
