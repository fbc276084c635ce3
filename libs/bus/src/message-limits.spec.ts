import { Partitioners } from 'kafkajs';
import { DLQ_HEADERS } from './delivery-policy';
import { fitDeadLetter, incomingViolation, isRefusedAsTooLarge, MAX_PARTITION_KEY_BYTES, messageBytes, partitionKey, TRUNCATION_HEADERS } from './message-limits';

const limits = { maxMessageBytes: 2_000, maxKeyBytes: 100 };

describe('partitionKey', () => {
  it('keeps keys up to MAX_PARTITION_KEY_BYTES and replaces longer ones by a fixed-size sha256', () => {
    const short = 'k'.repeat(MAX_PARTITION_KEY_BYTES);
    expect(partitionKey(short)).toBe(short);
    expect(partitionKey(undefined)).toBeUndefined();
    const long = partitionKey('u'.repeat(900 * 1024));
    expect(long).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(partitionKey('u'.repeat(900 * 1024))).toBe(long);
    expect(partitionKey('v'.repeat(900 * 1024))).not.toBe(long);
  });

  it("bounds the time of kafkajs's partitioner for a 900 KB key (one synchronous call)", () => {
    const partition = Partitioners.DefaultPartitioner();
    const partitionMetadata = [0, 1, 2].map((p) => ({ partitionId: p, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
    const started = performance.now();
    const chosen = partition({ topic: 't', partitionMetadata, message: { key: partitionKey('u'.repeat(900 * 1024)), value: 'v' } });
    const ms = performance.now() - started;
    expect([0, 1, 2]).toContain(chosen);
    // kafkajs's own murmur2 of the 900 KB key itself runs for minutes.
    expect(ms).toBeLessThan(50);
  });
});

describe('incomingViolation', () => {
  const message = (key: string | undefined, value: string) => ({ topic: 't', partition: 0, offset: '7', key, value: Buffer.from(value), headers: { h: 'v' } });

  it('names the key limit first, then the message limit, with the sizes', () => {
    expect(incomingViolation(message('k'.repeat(101), 'x'), limits)).toMatchObject({ field: 'key', bytes: 101, limit: 100, setting: 'BUS_MAX_KEY_BYTES' });
    expect(incomingViolation(message('k', 'x'.repeat(2_000)), limits)).toMatchObject({
      field: 'message',
      bytes: 2_003,
      reason: 'message of 2003 bytes is over the 2000-byte limit (BUS_MAX_MESSAGE_BYTES)',
    });
    expect(incomingViolation(message('k', 'x'.repeat(1_997)), limits)).toBeUndefined();
  });
});

describe('fitDeadLetter', () => {
  it('leaves a dead letter that fits as it is', () => {
    const dlq = { topic: 't.dlq', key: 'k', value: 'small', headers: { [DLQ_HEADERS.error]: 'why' } };
    expect(fitDeadLetter(dlq, limits)).toBe(dlq);
  });

  it('cuts an oversized one to the limit: hashed key, original sizes, the DLQ headers kept over the producer ones', () => {
    const dlq = {
      topic: 't.dlq',
      key: 'k'.repeat(5_000),
      value: Buffer.alloc(10_000, 1),
      headers: { big: 'h'.repeat(3_000), [DLQ_HEADERS.error]: 'why', [DLQ_HEADERS.offset]: '7' },
    };
    const fitted = fitDeadLetter(dlq, limits);
    expect(messageBytes(fitted)).toBeLessThanOrEqual(limits.maxMessageBytes);
    expect(fitted.key).toMatch(/^sha256:/);
    expect(fitted.headers).toMatchObject({
      [DLQ_HEADERS.error]: 'why',
      [DLQ_HEADERS.offset]: '7',
      [TRUNCATION_HEADERS.truncated]: 'true',
      [TRUNCATION_HEADERS.originalBytes]: String(messageBytes(dlq)),
      [TRUNCATION_HEADERS.originalKeyBytes]: '5000',
    });
    expect(fitted.headers!.big).toBeUndefined();
    expect((fitted.value as Buffer).length).toBeGreaterThan(1_000);
  });
});

describe('isRefusedAsTooLarge', () => {
  it("finds the broker's MESSAGE_TOO_LARGE or RECORD_LIST_TOO_LARGE through causes", () => {
    expect(isRefusedAsTooLarge(Object.assign(new Error('too large'), { type: 'MESSAGE_TOO_LARGE' }))).toBe(true);
    expect(isRefusedAsTooLarge(new Error('wrapped', { cause: { type: 'RECORD_LIST_TOO_LARGE' } }))).toBe(true);
    expect(isRefusedAsTooLarge(Object.assign(new Error('x'), { type: 'NOT_LEADER_FOR_PARTITION' }))).toBe(false);
  });
});
