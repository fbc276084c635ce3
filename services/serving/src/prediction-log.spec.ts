import { EventBus, InProcessTransport, type OutgoingMessage } from '@mlops/bus';
import { decodeEvent, decodePredictionTensors, payloadSchemas, PredictionRows, type EventEnvelope } from '@mlops/contracts';
import type { Feeds } from './batcher';
import { predictionMessage, predictionMessages, validatedPredictionEvent, type PredictionBatch } from './prediction-event';
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

/** What a consumer does with a message: the contract's decode (zod or its shortcut), then the codec's row view. */
const consumed = (m: OutgoingMessage) => decodeEvent(Buffer.from(m.value)) as EventEnvelope<'prediction.logged'>;
function rowsOf(event: EventEnvelope<'prediction.logged'>): PredictionRows {
  if (event.data.schemaVersion !== 2) throw new Error('expected a v2 prediction.logged');
  return new PredictionRows(decodePredictionTensors(event.data));
}
const inputsOf = (rows: PredictionRows, k: number) => rows.fillInputs(k, {});

describe('predictionMessage (prediction.logged v2: one event per request, its tensors as binary columns)', () => {
  it('writes an event the contract accepts, equal to the zod-validated reference, with matching headers', () => {
    const b = batch();
    const message = predictionMessage(b, [0, 1]);
    const event = consumed(message);
    const reference = validatedPredictionEvent(b, [0, 1]);
    expect(payloadSchemas['prediction.logged'].parse(event.data)).toEqual(event.data);
    expect(event.data).toEqual(JSON.parse(JSON.stringify(reference.data)));
    expect(event).toMatchObject({ type: 'prediction.logged', source: 'serving', subject: 'churn', correlationId: event.id });
    expect(message).toMatchObject({
      topic: 'prediction.logged',
      key: 'churn',
      headers: { 'event-id': event.id, 'event-type': 'prediction.logged', 'correlation-id': event.id },
    });
    expect(event.data).toMatchObject({ schemaVersion: 2, predictionIds: ['req-"1":0', 'req-"1":1'], rows: [0, 1], requestKey: 'req-"1"', latencyMs: 1.625, version: 3 });
    // The tensors travel as their bytes: float32 values read back exactly, as the model saw them.
    const rows = rowsOf(event);
    expect(inputsOf(rows, 1)).toEqual({ 'input[0]': Math.fround(1e-7), 'input[1]': 0, 'input[2]': 7.25, flag: false, count: -9, text: 'é' });
    expect(rows.outputs(1)).toEqual({ label: 0, probabilities: [Math.fround(0.9), Math.fround(0.1)], ok: 1 });
    expect(inputsOf(rows, 0)).toMatchObject({ 'input[0]': Math.fround(0.1), text: 'a "quoted"\nline', flag: true, count: 5 });
  });

  it('carries the model\'s feature names on its one input, so rows are keyed by them; otherwise positional keys', () => {
    const one = { input: batch().inputs.input };
    const named = consumed(predictionMessage(batch({ inputs: one, featureNames: ['age', 'tenure', 'plan'] }), [1]));
    if (named.data.schemaVersion !== 2) throw new Error('v2 expected');
    expect(named.data.inputs[0].featureNames).toEqual(['age', 'tenure', 'plan']);
    expect(inputsOf(rowsOf(named), 0)).toEqual({ age: Math.fround(1e-7), tenure: 0, plan: 7.25 });
    expect(named.data).toEqual(JSON.parse(JSON.stringify(validatedPredictionEvent(batch({ inputs: one, featureNames: ['age', 'tenure', 'plan'] }), [1]).data)));
    // Rows of another width than the names (a dynamic column count), or a model with more inputs: positional.
    expect(Object.keys(inputsOf(rowsOf(consumed(predictionMessage(batch({ inputs: one, featureNames: ['a', 'b'] }), [0]))), 0))).toEqual(['input[0]', 'input[1]', 'input[2]']);
    expect(Object.keys(inputsOf(rowsOf(consumed(predictionMessage(batch({ featureNames: ['a', 'b', 'c'] }), [0]))), 0))).toContain('input[0]');
  });

  it('sends the raw bytes of the request as they are (little-endian), base64 in the event', () => {
    const data = Float32Array.from([0.1, -2.5, 3, 1e-7, 0, 7.25]);
    const event = consumed(predictionMessage(batch(), [0, 1]));
    if (event.data.schemaVersion !== 2) throw new Error('v2 expected');
    const input = event.data.inputs.find((t) => t.name === 'input')!;
    expect(input).toEqual({ name: 'input', datatype: 'FP32', shape: [2, 3], data: Buffer.from(data.buffer).toString('base64') });
  });

  it('only the sampled rows have ids; without a request id every row gets a fresh one and there is no requestKey', () => {
    const event = consumed(predictionMessage(batch({ requestId: '' }), [0, 1]));
    if (event.data.schemaVersion !== 2) throw new Error('v2 expected');
    const [a, b] = event.data.predictionIds;
    expect(a).not.toBe(b);
    expect(event.data.requestKey).toBeUndefined();
    const sampled = consumed(predictionMessage(batch(), [1]));
    expect(sampled.data).toMatchObject({ predictionIds: ['req-"1":1'], rows: [1] });
    expect(inputsOf(rowsOf(sampled), 0)).toMatchObject({ count: -9 });
  });

  it('carries NaN and infinities (v1 could not): the monitor sees them as they are', () => {
    const inputs: Feeds = { input: { datatype: 'FP32', shape: [2, 1], data: Float32Array.from([NaN, 1]) } };
    const outputs: Feeds = { y: { datatype: 'FP32', shape: [2, 2], data: Float32Array.from([1, Infinity, 2, 3]) } };
    const rows = rowsOf(consumed(predictionMessage(batch({ inputs, outputs }), [0, 1])));
    expect(inputsOf(rows, 0)).toEqual({ input: NaN });
    expect(rows.outputs(0)).toEqual({ y: [1, Infinity] });
    expect(inputsOf(rows, 1)).toEqual({ input: 1 });
  });

  it('writes every datatype serving takes as the reference does: FP16 decoded from its bits, FP64 and small integers as they are', () => {
    const b = batch({
      inputs: {
        // FP16 bits: 0x3c00 = 1, 0xc100 = -2.5, 0x0001 = 2^-24 (the smallest subnormal), 0x7bff = 65504
        half: { datatype: 'FP16', shape: [1, 4], data: Uint16Array.from([0x3c00, 0xc100, 0x0001, 0x7bff]) },
        double: { datatype: 'FP64', shape: [1, 2], data: Float64Array.from([0.1, -1e300]) },
        small: { datatype: 'INT8', shape: [1, 2], data: Int8Array.from([-128, 127]) },
        wide: { datatype: 'UINT32', shape: [1], data: Uint32Array.from([4294967295]) },
        big: { datatype: 'UINT64', shape: [1], data: BigUint64Array.from([2n ** 53n]) },
        short: { datatype: 'INT16', shape: [1], data: Int16Array.from([-300]) },
        byte: { datatype: 'UINT8', shape: [1], data: Uint8Array.from([255]) },
        mid: { datatype: 'UINT16', shape: [1], data: Uint16Array.from([65535]) },
        int: { datatype: 'INT32', shape: [1], data: Int32Array.from([-2147483648]) },
      },
      outputs: { score: { datatype: 'FP16', shape: [1, 2], data: Uint16Array.from([0x3800, 0x3400]) } },
    });
    const event = consumed(predictionMessage(b, [0]));
    expect(event.data).toEqual(JSON.parse(JSON.stringify(validatedPredictionEvent(b, [0]).data)));
    const rows = rowsOf(event);
    expect(inputsOf(rows, 0)).toEqual({
      'half[0]': 1, 'half[1]': -2.5, 'half[2]': 2 ** -24, 'half[3]': 65504,
      'double[0]': 0.1, 'double[1]': -1e300, 'small[0]': -128, 'small[1]': 127, wide: 4294967295,
      big: 2 ** 53, short: -300, byte: 255, mid: 65535, int: -2147483648,
    });
    expect(rows.outputs(0)).toEqual({ score: [0.5, 0.25] });
  });
});

describe('predictionMessages (a request too large for one event)', () => {
  it('splits by runs of rows that fit, each a complete event with the request\'s own row numbers in its ids', () => {
    const b = batch();
    // 2 rows of about 30 bytes each (FP32 x3, BOOL, INT64, BYTES; outputs INT64, FP32 x2, BOOL): one row per event
    const messages = predictionMessages(b, [0, 1], new Date(), 40);
    expect(messages).toHaveLength(2);
    const [first, second] = messages.map(consumed);
    expect(first.data).toMatchObject({ predictionIds: ['req-"1":0'], rows: [0] });
    expect(second.data).toMatchObject({ predictionIds: ['req-"1":1'], rows: [0] });
    expect(inputsOf(rowsOf(second), 0)).toEqual({ 'input[0]': Math.fround(1e-7), 'input[1]': 0, 'input[2]': 7.25, flag: false, count: -9, text: 'é' });
    expect(rowsOf(second).outputs(0)).toEqual({ label: 0, probabilities: [Math.fround(0.9), Math.fround(0.1)], ok: 1 });
    // a run with no sampled row publishes nothing; under the limit it is one event
    expect(predictionMessages(b, [1], new Date(), 40).map((m) => consumed(m).data)).toEqual([expect.objectContaining({ predictionIds: ['req-"1":1'], rows: [0] })]);
    expect(predictionMessages(b, [0, 1])).toHaveLength(1);
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
    await vi.waitFor(() => expect(events.reduce((n, e) => n + rowsOf(e).length, 0)).toBe(log.stats.published));
    await sub.stop();
    return events;
  }
  /** Every logged row across the events, in order: its prediction id and feature x. */
  const loggedRows = (events: EventEnvelope<'prediction.logged'>[]) =>
    events.flatMap((e) => {
      const rows = rowsOf(e);
      return Array.from({ length: rows.length }, (_, k) => ({ id: rows.predictionId(k), x: rows.fillInputs(k, {}).x }));
    });

  it('publishes nothing during record(): the events are built after the caller returns', async () => {
    const transport = new InProcessTransport();
    const log = new PredictionLog(new EventBus(transport), { sampleRate: 1, capacity: 1000 });
    log.record(oneFeature(3), 3);
    expect(log.stats).toMatchObject({ published: 0, pending: 3 });
    const events = await published(log, transport);
    expect(events).toHaveLength(1);
    expect(loggedRows(events).map((r) => r.x)).toEqual([0, 1, 2]);
    expect(log.stats).toMatchObject({ published: 3, pending: 0, dropped: 0, failed: 0 });
  });

  it('honours the sample rate: a row is logged when random() < rate', async () => {
    const transport = new InProcessTransport();
    const draws = [0.05, 0.5, 0.2, 0.01, 0.99, 0.24];
    const log = new PredictionLog(new EventBus(transport), { sampleRate: 0.25, capacity: 1000, random: () => draws.shift()! });
    log.record(oneFeature(6), 6);
    const events = await published(log, transport);
    expect(loggedRows(events).map((r) => r.id)).toEqual(['req-"1":0', 'req-"1":2', 'req-"1":3', 'req-"1":5']);
    expect(events[0].data).toMatchObject({ rows: [0, 2, 3, 5] });
  });

  it('a second record of the same request (a shadow\'s answer) logs the rows the first one sampled, with no draw of its own', async () => {
    const transport = new InProcessTransport();
    const draws = [0.05, 0.5, 0.2, 0.01, 0.99, 0.24];
    const log = new PredictionLog(new EventBus(transport), { sampleRate: 0.25, capacity: 1000, random: () => draws.shift()! });
    const sampled = log.record(oneFeature(6), 6);
    expect(sampled).toEqual([0, 2, 3, 5]);
    expect(log.record({ ...oneFeature(6), shadow: true }, 6, sampled)).toEqual([0, 2, 3, 5]);
    expect(draws).toHaveLength(0);
    const events = await published(log, transport);
    expect(events.map((e) => e.data)).toMatchObject([{ rows: [0, 2, 3, 5] }, { rows: [0, 2, 3, 5], shadow: true }]);
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
    expect(events).toHaveLength(2);
    expect(loggedRows(events).map((r) => r.x)).toEqual([0, 1, 2, 3, 0]);
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
