import { describe, expect, it } from 'vitest';
import type { OutgoingMessage } from '../transport';
import { MAX_REQUEST_BYTES, requestSizedChunks } from './kafka.transport';

const message = (i: number, bytes: number): OutgoingMessage => ({ topic: 'data.validated', key: `k${i}`, value: 'x'.repeat(bytes), headers: { 'event-id': `id-${i}` } });

describe('requestSizedChunks', () => {
  it('cuts a backlog larger than the broker limit into requests under MAX_REQUEST_BYTES, keeping order and every message', () => {
    const messages = Array.from({ length: 3_000 }, (_, i) => message(i, 515));
    const chunks = requestSizedChunks(messages);
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.flat()).toEqual(messages);
    for (const chunk of chunks) {
      const bytes = chunk.reduce((sum, m) => sum + Buffer.byteLength(m.value), 0);
      expect(bytes).toBeLessThanOrEqual(MAX_REQUEST_BYTES);
    }
  });

  it('keeps a small batch in one request and sends an oversized single message alone', () => {
    expect(requestSizedChunks([message(1, 10), message(2, 10)])).toHaveLength(1);
    const big = message(3, MAX_REQUEST_BYTES + 1);
    expect(requestSizedChunks([message(1, 10), big, message(2, 10)])).toEqual([[message(1, 10)], [big], [message(2, 10)]]);
    expect(requestSizedChunks([])).toEqual([]);
  });
});
