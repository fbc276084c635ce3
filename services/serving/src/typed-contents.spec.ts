import { join } from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import { findProtoDir, PROTO_LOADER_OPTIONS } from '@mlops/grpc';
import { Writer } from 'protobufjs';
import { inferRequestDeserializer } from './typed-contents';

const FILE = 'grpc_service.proto';
const protoDir = findProtoDir(FILE, 'SERVING_PROTO_DIR');
const reference = protoLoader.loadSync(join(protoDir, FILE), PROTO_LOADER_OPTIONS)['inference.ModelInferRequest'] as protoLoader.MessageTypeDefinition<object, object>;
const decode = inferRequestDeserializer(protoDir, FILE);

/** The decoded message with typed arrays as plain arrays: what proto-loader would have given. */
function plain(value: unknown): unknown {
  if (value instanceof Float32Array || value instanceof Float64Array) return Array.from(value);
  if (Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

const tensor = (name: string, datatype: string, shape: number[], contents: Record<string, unknown[]>) => ({ name, datatype, shape, contents });

describe('the ModelInfer request decoder (typed FP32/FP64 contents) against proto-loader', () => {
  it('gives what proto-loader gives for every contents field, raw inputs, parameters and outputs', () => {
    const request = {
      model_name: 'm',
      model_version: '2',
      id: 'req-1',
      parameters: { priority: { int64_param: '7' }, tag: { string_param: 'a' } },
      inputs: [
        tensor('f32', 'FP32', [2, 3], { fp32_contents: [0.5, -1.25, 3e38, 1e-45, 0, -0] }),
        tensor('f64', 'FP64', [2], { fp64_contents: [Math.PI, -1e308] }),
        tensor('b', 'BOOL', [3], { bool_contents: [true, false, true] }),
        tensor('i', 'INT32', [2], { int_contents: [-5, 2147483647] }),
        tensor('l', 'INT64', [2], { int64_contents: ['-9223372036854775808', '42'] }),
        tensor('u', 'UINT32', [1], { uint_contents: [4294967295] }),
        tensor('ul', 'UINT64', [1], { uint64_contents: ['18446744073709551615'] }),
        tensor('s', 'BYTES', [2], { bytes_contents: [Buffer.from('héllo'), Buffer.alloc(0)] }),
        { name: 'raw', datatype: 'FP32', shape: [1] },
        tensor('empty', 'FP32', [0], {}),
      ],
      outputs: [{ name: 'label', parameters: { binary_data: { bool_param: true } } }],
      raw_input_contents: [Buffer.from([0, 0, 128, 63])],
    };
    const bytes = reference.serialize(request);
    const ours = decode(bytes) as { inputs: { contents: Record<string, unknown> }[] };
    expect(ours.inputs[0].contents.fp32_contents).toBeInstanceOf(Float32Array);
    expect(ours.inputs[1].contents.fp64_contents).toBeInstanceOf(Float64Array);
    expect(plain(ours)).toEqual(reference.deserialize(bytes));
  });

  it('reads unpacked elements, packed runs split in two and unknown fields as proto-loader does', () => {
    // InferTensorContents by hand: fp32 (6) as two packed runs, fp64 (7) element by element,
    // int (2) unpacked, and an unknown field 15 to skip.
    const contents = new Writer();
    contents.uint32((6 << 3) | 2).fork().float(1.5).float(2.5).ldelim();
    contents.uint32((6 << 3) | 2).fork().float(-3).ldelim();
    contents.uint32((7 << 3) | 1).double(0.1);
    contents.uint32((7 << 3) | 1).double(0.2);
    contents.uint32((2 << 3) | 0).int32(-1);
    contents.uint32((2 << 3) | 0).int32(9);
    contents.uint32((15 << 3) | 2).string('ignored');
    const input = new Writer();
    input.uint32((1 << 3) | 2).string('x');
    input.uint32((2 << 3) | 2).string('FP32');
    input.uint32((5 << 3) | 2).bytes(contents.finish());
    const request = new Writer();
    request.uint32((1 << 3) | 2).string('m');
    request.uint32((5 << 3) | 2).bytes(input.finish());
    const bytes = Buffer.from(request.finish());

    const ours = decode(bytes) as { inputs: { contents: Record<string, unknown> }[] };
    const expected = reference.deserialize(bytes) as { inputs: { contents: Record<string, unknown> }[] };
    expect(expected.inputs[0].contents.fp32_contents).toEqual([1.5, 2.5, -3]);
    expect(plain(ours)).toEqual(expected);
  });
});
