import { EventBus, InProcessTransport, type OutgoingMessage } from '@mlops/bus';
import { decodeEvent, payloadSchemas, type EventEnvelope } from '@mlops/contracts';
import type { Feeds } from './batcher';
import { PredictionMessageWriter, validatedPredictionEvent, type PredictionBatch } from './prediction-event';
import { PredictionLog } from './prediction-log';

const batch = (over: Partial<PredictionBatch> = {}): PredictionBatch => ({
  model: 'churn',
  version: 3,
  requestId: 'req-"1"',
  inputs: {
    input: { datatype: 'FP32', shape: [2, 3], data: Float32Array.from([0.1, -2.5, 3, 1e-7, 0, 7.25]) },
    flag: { datatype: 'BOOL', shape: [2, 1], data: Uint8Array.from([1, 0]) },
    count: { datatype: 'INT64', shape: [2], data: BigInt64Array.from([5n, -9n]) },
    text: { datatype: 'BYTES', shape: [2], data: ['a "quoted"\nline', 'é'] },
  },
  outputs: {
    label: { datatype: 'INT64', shape: [2], data: BigInt64Array.from([1n, 0n]) },
    probabilities: { datatype: 'FP32', shape: [2, 2], data: Float32Array.from([0.25, 0.75, 0.9, 0.1]) },
    ok: { datatype: 'BOOL', shape: [2], data: Uint8Array.from([0, 1]) },
  },
  latencyMs: 1.625,
  ...over,
});

/** What a consumer does with a message: the contract's decode, which runs the zod schemas. */
const consumed = (m: OutgoingMessage) => decodeEvent(Buffer.from(m.value)) as EventEnvelope<'prediction.logged'>;

describe('PredictionMessageWriter (prediction.logged without a zod pass per row)', () => {
  it('writes events the contract accepts, equal to the zod-validated reference, with matching headers', () => {
    const writer = new PredictionMessageWriter();
    const b = batch();
    writer.begin(b);
    for (const row of [0, 1]) {
      const message = writer.row(row);
      const event = consumed(message);
      const reference = validatedPredictionEvent(b, row);
      expect(payloadSchemas['prediction.logged'].parse(event.data)).toEqual(event.data);
      expect(event.data).toEqual(JSON.parse(JSON.stringify(reference.data)));
      expect(event).toMatchObject({ type: 'prediction.logged', source: 'serving', subject: 'churn', correlationId: event.id });
      expect(message).toMatchObject({
        topic: 'prediction.logged',
        key: 'churn',
        headers: { 'event-id': event.id, 'event-type': 'prediction.logged', 'correlation-id': event.id },
      });
    }
    const row1 = consumed((writer.begin(b), writer.row(1))).data;
    // float32 values are logged as the shortest decimal that reads back as the same float32
    expect(row1.inputs).toEqual({ 'input[0]': 1e-7, 'input[1]': 0, 'input[2]': 7.25, flag: false, count: -9, text: 'é' });
    expect(row1.outputs).toEqual({ label: 0, probabilities: [0.9, 0.1], ok: 1 });
    expect(row1).toMatchObject({ predictionId: 'req-"1":1', requestKey: 'req-"1"', latencyMs: 1.625, version: 3 });
  });

  it('without a request id: a fresh prediction id per row and no requestKey', () => {
    const writer = new PredictionMessageWriter();
    writer.begin(batch({ requestId: '' }));
    const [a, b] = [consumed(writer.row(0)).data, consumed(writer.row(1)).data];
    expect(a.predictionId).not.toBe(b.predictionId);
    expect(a.requestKey).toBeUndefined();
  });

  it('a row with NaN goes to the validated path and fails with the contract error naming the field', () => {
    const writer = new PredictionMessageWriter();
    const inputs: Feeds = { input: { datatype: 'FP32', shape: [2, 1], data: Float32Array.from([NaN, 1]) } };
    writer.begin(batch({ inputs }));
    expect(() => writer.row(0)).toThrow(/data\.inputs\.input/);
    expect(consumed(writer.row(1)).data.inputs).toEqual({ input: 1 });
  });

  it('writes every numeric datatype as the reference does: FP16 decoded from its bits, FP64 and small integers as they are', () => {
    const writer = new PredictionMessageWriter();
    const b = batch({
      inputs: {
        // FP16 bits: 0x3c00 = 1, 0xc100 = -2.5, 0x0001 = 2^-24 (the smallest subnormal), 0x7bff = 65504
        half: { datatype: 'FP16', shape: [1, 4], data: Uint16Array.from([0x3c00, 0xc100, 0x0001, 0x7bff]) },
        double: { datatype: 'FP64', shape: [1, 2], data: Float64Array.from([0.1, -1e300]) },
        small: { datatype: 'INT8', shape: [1, 2], data: Int8Array.from([-128, 127]) },
        wide: { datatype: 'UINT32', shape: [1], data: Uint32Array.from([4294967295]) },
      },
      outputs: { score: { datatype: 'FP16', shape: [1, 2], data: Uint16Array.from([0x3800, 0x3400]) } },
    });
    writer.begin(b);
    const event = consumed(writer.row(0));
    expect(event.data).toEqual(JSON.parse(JSON.stringify(validatedPredictionEvent(b, 0).data)));
    expect(event.data.inputs).toEqual({
      'half[0]': 1, 'half[1]': -2.5, 'half[2]': 2 ** -24, 'half[3]': 65504,
      'double[0]': 0.1, 'double[1]': -1e300, 'small[0]': -128, 'small[1]': 127, wide: 4294967295,
    });
    expect(event.data.outputs).toEqual({ score: [0.5, 0.25] });
  });

  it('a non-finite output goes to the validated path too, and the writer carries on with the next row', () => {
    const writer = new PredictionMessageWriter();
    const outputs: Feeds = { y: { datatype: 'FP32', shape: [2, 2], data: Float32Array.from([1, Infinity, 2, 3]) } };
    writer.begin(batch({ inputs: { x: { datatype: 'FP32', shape: [2], data: Float32Array.from([0.5, 0.25]) } }, outputs }));
    expect(() => writer.row(0)).toThrow(/data\.outputs\.y/);
    expect(consumed(writer.row(1)).data).toMatchObject({ inputs: { x: 0.25 }, outputs: { y: [2, 3] } });
  });
});

describe('PredictionLog', () => {
  const oneFeature = (rows: number): PredictionBatch =>
    batch({
      inputs: { x: { datatype: 'FP32', shape: [rows, 1], data: Float32Array.from({ length: rows }, (_, i) => i) } },
      outputs: { y: { datatype: 'FP32', shape: [rows], data: new Float32Array(rows) } },
    });

  async function published(log: PredictionLog, transport: InProcessTransport) {
    await log.flush();
    const events: EventEnvelope<'prediction.logged'>[] = [];
    const bus = new EventBus(transport);
    const sub = await bus.subscribe({
      group: `check-${Math.random()}`,
      topics: ['prediction.logged'],
      fromBeginning: true,
      handle: async (m) => {
        const e = decodeEvent(m.value);
        if (e.type === 'prediction.logged') events.push(e);
      },
    });
    await vi.waitFor(() => expect(events.length).toBe(log.stats.published));
    await sub.stop();
    return events;
  }

  it('publishes nothing during record(): the events are built after the caller returns', async () => {
    const transport = new InProcessTransport();
    const log = new PredictionLog(new EventBus(transport), { sampleRate: 1, capacity: 1000 });
    log.record(oneFeature(3), 3);
    expect(log.stats).toMatchObject({ published: 0, pending: 3 });
    const events = await published(log, transport);
    expect(events.map((e) => e.data.inputs.x)).toEqual([0, 1, 2]);
    expect(log.stats).toMatchObject({ published: 3, pending: 0, dropped: 0, failed: 0 });
  });

  it('honours the sample rate: a row is logged when random() < rate', async () => {
    const transport = new InProcessTransport();
    const draws = [0.05, 0.5, 0.2, 0.01, 0.99, 0.24];
    const log = new PredictionLog(new EventBus(transport), { sampleRate: 0.25, capacity: 1000, random: () => draws.shift()! });
    log.record(oneFeature(6), 6);
    const events = await published(log, transport);
    expect(events.map((e) => e.data.predictionId)).toEqual(['req-"1":0', 'req-"1":2', 'req-"1":3', 'req-"1":5']);
  });

  it('sample rate 0 logs nothing', async () => {
    const transport = new InProcessTransport();
    const log = new PredictionLog(new EventBus(transport), { sampleRate: 0, capacity: 1000 });
    log.record(oneFeature(5), 5);
    await log.flush();
    expect(log.stats).toMatchObject({ published: 0, pending: 0, dropped: 0 });
  });

  it('a full buffer drops rows and counts them; what fits is published, in chunks', async () => {
    const transport = new InProcessTransport();
    const log = new PredictionLog(new EventBus(transport), { sampleRate: 1, capacity: 5, chunk: 2 });
    log.record(oneFeature(4), 4);
    log.record(oneFeature(3), 3);
    log.record(oneFeature(2), 2);
    expect(log.stats).toMatchObject({ dropped: 4, pending: 5 });
    const events = await published(log, transport);
    expect(events.map((e) => e.data.inputs.x)).toEqual([0, 1, 2, 3, 0]);
  });

  it('a failing bus never throws into record() and is counted', async () => {
    const transport = new InProcessTransport();
    const bus = new EventBus(transport);
    vi.spyOn(bus, 'publishMessages').mockRejectedValue(new Error('broker down'));
    const warnings: string[] = [];
    const log = new PredictionLog(bus, { sampleRate: 1, capacity: 100, logger: { warn: (m) => warnings.push(m) } });
    expect(() => log.record(oneFeature(3), 3)).not.toThrow();
    await log.flush();
    expect(log.stats).toMatchObject({ published: 0, failed: 3 });
    expect(warnings[0]).toContain('broker down');
  });
});
