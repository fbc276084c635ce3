import {
  ContractViolation,
  createEvent,
  decodeEvent,
  decodePredictionTensors,
  encodeBytesElements,
  encodePredictionTensors,
  PredictionRows,
  TENSOR_DATATYPES,
  TensorDecodeError,
  type HostTensorInput,
  type PredictionTensorsPayload,
  type WireTensor,
} from './index';

/** One tensor of every datatype, 3 rows, with edge values; BYTES with UTF-8 and an empty string. */
const EVERY_DATATYPE: HostTensorInput[] = [
  { name: 'bool', datatype: 'BOOL', shape: [3], data: Uint8Array.from([1, 0, 1]) },
  { name: 'u8', datatype: 'UINT8', shape: [3], data: Uint8Array.from([0, 128, 255]) },
  { name: 'u16', datatype: 'UINT16', shape: [3], data: Uint16Array.from([0, 1, 65535]) },
  { name: 'u32', datatype: 'UINT32', shape: [3], data: Uint32Array.from([0, 7, 4294967295]) },
  { name: 'u64', datatype: 'UINT64', shape: [3], data: BigUint64Array.from([0n, 1n, 2n ** 53n]) },
  { name: 'i8', datatype: 'INT8', shape: [3], data: Int8Array.from([-128, 0, 127]) },
  { name: 'i16', datatype: 'INT16', shape: [3], data: Int16Array.from([-32768, 5, 32767]) },
  { name: 'i32', datatype: 'INT32', shape: [3], data: Int32Array.from([-2147483648, 0, 2147483647]) },
  { name: 'i64', datatype: 'INT64', shape: [3], data: BigInt64Array.from([-(2n ** 53n), -1n, 2n ** 53n]) },
  // FP16 bits: 0x3c00 = 1, 0xc100 = -2.5, 0x0001 = 2^-24
  { name: 'f16', datatype: 'FP16', shape: [3], data: Uint16Array.from([0x3c00, 0xc100, 0x0001]) },
  { name: 'f32', datatype: 'FP32', shape: [3, 2], data: Float32Array.from([0.1, -2.5, 1e-7, NaN, Infinity, 3]) },
  { name: 'f64', datatype: 'FP64', shape: [3], data: Float64Array.from([0.1, -1e300, 5e-324]) },
  { name: 'text', datatype: 'BYTES', shape: [3], data: ['a "q"\n', '', 'é€😀'] },
];

const payloadOf = (over: Partial<Parameters<typeof encodePredictionTensors>[0]> = {}) =>
  encodePredictionTensors({
    model: 'm',
    version: 1,
    requestKey: 'r',
    latencyMs: 0.5,
    predictionIds: ['r:0', 'r:1', 'r:2'],
    rows: [0, 1, 2],
    inputs: EVERY_DATATYPE,
    outputs: [{ name: 'score', datatype: 'FP32', shape: [3, 2], data: Float32Array.from([0.25, 0.75, 0.5, 0.5, 1, 0]) }],
    ...over,
  });

/** The event as a consumer gets it: JSON text through decodeEvent (the shortcut or zod). */
const roundTrip = (data: PredictionTensorsPayload) => {
  const event = createEvent('prediction.logged', { source: 'serving', subject: 'm', data });
  const back = decodeEvent(JSON.stringify(event));
  if (back.type !== 'prediction.logged' || back.data.schemaVersion !== 2) throw new Error('not a v2 prediction.logged');
  return decodePredictionTensors(back.data);
};

function rejection(data: unknown): { field: string; message: string }[] {
  const event = { ...createEvent('prediction.logged', { source: 'serving', subject: 'm', data: payloadOf() }), data };
  try {
    decodeEvent(JSON.stringify(event));
  } catch (error) {
    expect(error).toBeInstanceOf(ContractViolation);
    return (error as ContractViolation).issues;
  }
  throw new Error('accepted');
}

const withTensor = (over: Partial<WireTensor>, index = 10): PredictionTensorsPayload => {
  const payload = payloadOf();
  payload.inputs[index] = { ...payload.inputs[index], ...over };
  return payload;
};

describe('prediction.logged v2 codec (libs/contracts prediction-tensors)', () => {
  it('round-trips every datatype serving takes, bit for bit, through JSON and decodeEvent', () => {
    expect(EVERY_DATATYPE.map((t) => t.datatype)).toEqual([...TENSOR_DATATYPES]);
    const decoded = roundTrip(payloadOf());
    expect(decoded).toMatchObject({ model: 'm', version: 1, requestKey: 'r', latencyMs: 0.5, rowCount: 3, rows: [0, 1, 2] });
    decoded.inputs.forEach((tensor, i) => {
      const sent = EVERY_DATATYPE[i];
      expect(tensor).toMatchObject({ name: sent.name, datatype: sent.datatype, shape: sent.shape });
      // Same typed array class and the same elements (NaN included), or the same strings.
      expect(tensor.data.constructor).toBe(sent.data.constructor);
      expect(Array.from(tensor.data as ArrayLike<unknown>)).toEqual(Array.from(sent.data as ArrayLike<unknown>));
    });
    expect(decoded.inputs.find((t) => t.name === 'f32')!.rowSize).toBe(2);
  });

  it('writes little-endian bytes: FP32 1 is 00 00 80 3f, INT32 1 is 01 00 00 00; BYTES as a 4-byte LE length and UTF-8', () => {
    const payload = encodePredictionTensors({
      model: 'm',
      version: 1,
      latencyMs: 0,
      predictionIds: ['a'],
      rows: [0],
      inputs: [
        { name: 'f', datatype: 'FP32', shape: [1], data: Float32Array.from([1]) },
        { name: 'i', datatype: 'INT32', shape: [1], data: Int32Array.from([1]) },
        { name: 's', datatype: 'BYTES', shape: [1], data: ['é'] },
      ],
      outputs: [],
    });
    expect(payload.inputs.map((t) => Buffer.from(t.data, 'base64').toString('hex'))).toEqual(['0000803f', '01000000', '02000000c3a9']);
    expect(encodeBytesElements(['', 'ab']).toString('hex')).toBe('000000000200000061' + '62');
    expect(payload.requestKey).toBeUndefined();
  });

  it('reads a tensor from a view into a larger buffer (a raw_input_contents slice) as just its bytes', () => {
    const backing = Float32Array.from([9, 9, 1, 2, 9]);
    const slice = new Float32Array(backing.buffer, 8, 2);
    const decoded = roundTrip(
      encodePredictionTensors({ model: 'm', version: 1, latencyMs: 0, predictionIds: ['a'], rows: [0], inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: slice }], outputs: [] }),
    );
    expect(Array.from(decoded.inputs[0].data as Float32Array)).toEqual([1, 2]);
  });

  it('gives a row view over the sampled rows: feature i of row r, keyed as v1 rows were, outputs as v1 logged them', () => {
    const view = new PredictionRows(roundTrip(payloadOf({ rows: [0, 2], predictionIds: ['r:0', 'r:2'] })));
    expect(view.length).toBe(2);
    expect(view.features).toEqual(['bool', 'u8', 'u16', 'u32', 'u64', 'i8', 'i16', 'i32', 'i64', 'f16', 'f32[0]', 'f32[1]', 'f64', 'text']);
    expect(view.predictionId(1)).toBe('r:2');
    expect(view.fillInputs(1)).toEqual({
      bool: true, u8: 255, u16: 65535, u32: 4294967295, u64: 2 ** 53, i8: 127, i16: 32767, i32: 2147483647, i64: 2 ** 53,
      f16: 2 ** -24, 'f32[0]': Infinity, 'f32[1]': 3, f64: 5e-324, text: 'é€😀',
    });
    expect(view.value(0, view.features.indexOf('f32[0]'))).toBe(Math.fround(0.1));
    expect(view.value(0, view.features.indexOf('f16'))).toBe(1);
    expect(view.outputs(1)).toEqual({ score: [1, 0] });
  });

  it('keys a row by the feature names a tensor carries (one per element of a row), else by <tensor>[i]', () => {
    const named = payloadOf({ inputs: [{ ...EVERY_DATATYPE[10], featureNames: ['age', 'tenure'] }, EVERY_DATATYPE[12]] });
    expect(named.inputs[0].featureNames).toEqual(['age', 'tenure']);
    const view = new PredictionRows(roundTrip(named));
    expect(view.features).toEqual(['age', 'tenure', 'text']);
    expect(view.fillInputs(2)).toEqual({ age: Infinity, tenure: 3, text: 'é€😀' });
    // An older writer's event (no names) still reads, keyed as before.
    expect(new PredictionRows(roundTrip(payloadOf({ inputs: [EVERY_DATATYPE[10]] }))).features).toEqual(['f32[0]', 'f32[1]']);
  });

  it('rejects feature names that are not one per element of a row, or repeat', () => {
    expect(rejection(withTensor({ featureNames: ['a'] }))).toEqual([
      { field: 'data.inputs.10.featureNames', message: 'has 1 names, expected one per element of a row (2 for shape [3,2])' },
    ]);
    expect(rejection(withTensor({ featureNames: ['a', 'a'] }))).toEqual([{ field: 'data.inputs.10.featureNames.1', message: "'a' appears more than once" }]);
    expect(rejection(withTensor({ featureNames: ['a', ''] }))[0]).toMatchObject({ field: 'data.inputs.10.featureNames.1' });
  });

  it('accepts an event with no row sampled (nothing to monitor, but not an error)', () => {
    const view = new PredictionRows(roundTrip(payloadOf({ rows: [], predictionIds: [] })));
    expect(view.length).toBe(0);
  });

  it('rejects a short or long buffer naming the tensor and the expected size', () => {
    const short = Buffer.from(Float32Array.from([1, 2, 3, 4, 5]).buffer).toString('base64');
    expect(rejection(withTensor({ data: short }))).toEqual([
      { field: 'data.inputs.10.data', message: 'holds 20 bytes, expected 24 (shape [3,2] = 6 elements x 4 bytes of FP32)' },
    ]);
    const long = Buffer.alloc(28).toString('base64');
    expect(rejection(withTensor({ data: long }))[0].message).toMatch(/holds 28 bytes, expected 24/);
  });

  it('rejects data that is not base64, BYTES that run past the end or miscount, and shapes that disagree on the rows', () => {
    expect(rejection(withTensor({ data: 'abc' }))).toEqual([{ field: 'data.inputs.10.data', message: 'not base64 (length 3 is not a multiple of 4)' }]);
    const truncated = encodeBytesElements(['abc']).subarray(0, 5).toString('base64');
    expect(rejection(withTensor({ data: truncated }, 12))).toEqual([{ field: 'data.inputs.12.data', message: 'BYTES element 0 runs past the end of the data' }]);
    const two = encodeBytesElements(['a', 'b']).toString('base64');
    expect(rejection(withTensor({ data: two }, 12))).toEqual([{ field: 'data.inputs.12.data', message: 'holds 2 BYTES elements, expected 3 for shape [3]' }]);
    const rows4 = Buffer.alloc(32).toString('base64');
    expect(rejection(withTensor({ shape: [4, 2], data: rows4 }))).toEqual([{ field: 'data.inputs.10.shape', message: 'batch dimension is 4, expected 3 as the first input\'s' }]);
    expect(rejection(withTensor({ datatype: 'FP8' as never }))[0]).toMatchObject({ field: 'data.inputs.10.datatype' });
  });

  it('rejects sampled rows out of range or out of order, ids that are not one per sampled row, and duplicate tensor names', () => {
    expect(rejection(payloadOf({ rows: [0, 3], predictionIds: ['a', 'b'] }))).toEqual([{ field: 'data.rows.1', message: 'row 3 is outside the 3 rows of the tensors' }]);
    expect(rejection(payloadOf({ rows: [1, 1], predictionIds: ['a', 'b'] }))).toEqual([{ field: 'data.rows.1', message: 'sampled rows must be ascending and distinct' }]);
    expect(rejection(payloadOf({ rows: [0, 1], predictionIds: ['a'] }))).toEqual([{ field: 'data.predictionIds', message: 'has 1 ids, expected one per sampled row (2)' }]);
    const twice = payloadOf();
    twice.outputs.push({ ...twice.outputs[0] });
    expect(rejection(twice)).toEqual([{ field: 'data.outputs.1.name', message: "tensor 'score' appears more than once" }]);
  });

  it('decoding (the monitor) catches base64 with characters outside the alphabet, as a dead-letterable ContractViolation', () => {
    const payload = withTensor({ data: '!'.repeat(32) });
    expect(() => decodePredictionTensors(payload)).toThrow(TensorDecodeError);
    try {
      decodePredictionTensors(payload);
    } catch (error) {
      expect((error as Error).name).toBe('ContractViolation');
      expect((error as Error).message).toBe('prediction.logged tensors do not decode: data.inputs.10.data: not base64 (characters outside the alphabet)');
    }
  });
});
