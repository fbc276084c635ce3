import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { findProtoDir, grpcStatusOf, PROTO_LOADER_OPTIONS } from '@mlops/grpc';
import type { DynamicBatcher } from './batcher';
import { decodeRequest, encodeResponse, requestKey, type InferRequestMessage } from './infer-request';
import type { LoadedModel } from './model-repository';
import { InferError } from './tensors';

const model = {
  name: 'churn',
  version: 3,
  platform: 'onnxruntime_onnx',
  inputs: [
    { name: 'features', datatype: 'FP32', shape: [-1, 3] },
    { name: 'segment', datatype: 'INT64', shape: [-1] },
  ],
  outputs: [
    { name: 'label', datatype: 'INT64', shape: [-1] },
    { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
  ],
  batchable: true,
  batcher: undefined as unknown as DynamicBatcher,
} as unknown as LoadedModel;

const typed = (overrides: Partial<InferRequestMessage> = {}): InferRequestMessage => ({
  model_name: 'churn',
  model_version: '',
  id: 'r1',
  inputs: [
    { name: 'features', datatype: 'FP32', shape: ['2', '3'], contents: { fp32_contents: [1, 2, 3, 4, 5, 6] } },
    { name: 'segment', datatype: 'INT64', shape: ['2'], contents: { int64_contents: ['7', '9007199254740993'] } },
  ],
  ...overrides,
});

function invalidMessage(request: InferRequestMessage): string {
  try {
    decodeRequest(model, request);
  } catch (error) {
    expect(error).toBeInstanceOf(InferError);
    expect(grpcStatusOf(error).code).toBe(status.INVALID_ARGUMENT);
    return (error as Error).message;
  }
  throw new Error('the request was accepted');
}

const raw = (features: number[], segment: bigint[]) => [
  Buffer.from(new Float32Array(features).buffer),
  Buffer.from(new BigInt64Array(segment).buffer),
];

describe('decodeRequest', () => {
  it('decodes typed contents, int64 exactly', () => {
    const decoded = decodeRequest(model, typed());
    expect(decoded.rows).toBe(2);
    expect(decoded.raw).toBe(false);
    expect(Array.from(decoded.feeds.features.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(decoded.feeds.segment.data as BigInt64Array)).toEqual([7n, 9007199254740993n]);
    expect(decoded.outputs).toEqual(['label', 'probabilities']);
  });

  it('decodes little-endian raw contents', () => {
    const decoded = decodeRequest(model, {
      ...typed(),
      inputs: typed().inputs.map((i) => ({ ...i, contents: undefined })),
      raw_input_contents: raw([1, 2, 3, 4, 5, 6], [7n, -1n]),
    });
    expect(decoded.raw).toBe(true);
    expect(Array.from(decoded.feeds.features.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(decoded.feeds.segment.data as BigInt64Array)).toEqual([7n, -1n]);
  });

  it('names an unknown input tensor and lists the expected ones', () => {
    const request = typed();
    request.inputs[0].name = 'feature';
    expect(invalidMessage(request)).toMatch(/unexpected input tensor 'feature'.*'features', 'segment'/);
  });

  it('names a missing input tensor with its datatype and shape', () => {
    const request = typed();
    request.inputs.pop();
    expect(invalidMessage(request)).toMatch(/missing input tensor 'segment' \(INT64 \[-1\]\)/);
  });

  it('names the tensor and the expected datatype', () => {
    const request = typed();
    request.inputs[0].datatype = 'FP64';
    expect(invalidMessage(request)).toMatch(/input tensor 'features': datatype 'FP64' .*expects FP32/);
  });

  it('names the tensor and the expected shape', () => {
    const request = typed();
    request.inputs[0].shape = ['3', '2'];
    expect(invalidMessage(request)).toMatch(/input tensor 'features': shape \[3,2\] .*expects \[-1,3\]/);
    request.inputs[0].shape = ['6'];
    expect(invalidMessage(request)).toMatch(/'features': shape \[6\]/);
  });

  it('checks the number of typed values against the shape', () => {
    const request = typed();
    request.inputs[0].contents = { fp32_contents: [1, 2, 3, 4, 5] };
    expect(invalidMessage(request)).toMatch(/'features': contents.fp32_contents has 5 values, expected 6 for shape \[2,3\]/);
    request.inputs[0].contents = { fp64_contents: [1, 2, 3, 4, 5, 6] };
    expect(invalidMessage(request)).toMatch(/'features': FP32 data must be in contents.fp32_contents/);
  });

  it('checks the raw byte size against shape x datatype', () => {
    const message = invalidMessage({
      ...typed(),
      inputs: typed().inputs.map((i) => ({ ...i, contents: undefined })),
      raw_input_contents: [Buffer.alloc(20), Buffer.alloc(16)],
    });
    expect(message).toMatch(/'features': raw_input_contents has 20 bytes, expected 24 \(shape \[2,3\] = 6 elements x 4 bytes of FP32\)/);
  });

  it('wants raw contents for all inputs or none, and not both kinds for one input', () => {
    expect(invalidMessage({ ...typed(), raw_input_contents: [Buffer.alloc(24)] })).toMatch(/1 entries but the request has 2 inputs/);
    expect(invalidMessage({ ...typed(), raw_input_contents: raw([1, 2, 3, 4, 5, 6], [1n, 2n]) })).toMatch(/'features': has both/);
  });

  it('wants every input to agree on the batch dimension', () => {
    const request = typed();
    request.inputs[1] = { name: 'segment', datatype: 'INT64', shape: ['1'], contents: { int64_contents: ['1'] } };
    expect(invalidMessage(request)).toMatch(/'features' has 2, 'segment' has 1/);
  });

  it('names an unknown requested output', () => {
    expect(invalidMessage({ ...typed(), outputs: [{ name: 'proba' }] })).toMatch(/requested output tensor 'proba'.*'label', 'probabilities'/);
  });
});

describe('encodeResponse', () => {
  const results = {
    label: { datatype: 'INT64' as const, shape: [2], data: new BigInt64Array([0n, 1n]) },
    probabilities: { datatype: 'FP32' as const, shape: [2, 2], data: new Float32Array([0.75, 0.25, 0.5, 0.5]) },
  };

  it('answers typed requests with typed contents and says which version answered', () => {
    const request = typed({ outputs: [{ name: 'probabilities' }] });
    const response = encodeResponse(model, request, decodeRequest(model, request), results);
    expect(response).toMatchObject({
      model_name: 'churn',
      model_version: '3',
      id: 'r1',
      parameters: { model_version: { string_param: '3' } },
      outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [2, 2], contents: { fp32_contents: [0.75, 0.25, 0.5, 0.5] } }],
      raw_output_contents: [],
    });
  });

  it('answers raw requests with little-endian raw outputs', () => {
    const request = { ...typed(), inputs: typed().inputs.map((i) => ({ ...i, contents: undefined })), raw_input_contents: raw([1, 2, 3, 4, 5, 6], [1n, 2n]) };
    const response = encodeResponse(model, request, decodeRequest(model, request), results) as { raw_output_contents: Buffer[]; outputs: unknown[] };
    expect(response.outputs).toEqual([
      { name: 'label', datatype: 'INT64', shape: [2] },
      { name: 'probabilities', datatype: 'FP32', shape: [2, 2] },
    ]);
    expect(response.raw_output_contents[0].readBigInt64LE(8)).toBe(1n);
    expect(response.raw_output_contents[1].readFloatLE(4)).toBe(0.25);
  });

  it('encodes 64-bit integer outputs exactly through the protocol buffers of grpc_service.proto', () => {
    const definition = protoLoader.loadSync(join(findProtoDir('grpc_service.proto', 'SERVING_PROTO_DIR'), 'grpc_service.proto'), PROTO_LOADER_OPTIONS);
    const method = (definition['inference.GRPCInferenceService'] as protoLoader.ServiceDefinition).ModelInfer;
    const labels = [0n, -1n, 9007199254740993n, -(2n ** 63n), 2n ** 63n - 1n];
    const unsigned = [0n, 2n ** 64n - 1n, 2n ** 32n];
    const wide = {
      label: { datatype: 'INT64' as const, shape: [5], data: BigInt64Array.from(labels) },
      count: { datatype: 'UINT64' as const, shape: [3], data: BigUint64Array.from(unsigned) },
    };
    const request = typed({ outputs: [{ name: 'label' }, { name: 'count' }] });
    const wideModel = { ...model, outputs: [...model.outputs, { name: 'count', datatype: 'UINT64', shape: [-1] }] } as LoadedModel;
    const bytes = method.responseSerialize(encodeResponse(wideModel, request, decodeRequest(wideModel, request), wide));
    const decoded = method.responseDeserialize(bytes) as { outputs: { contents: { int64_contents: string[]; uint64_contents: string[] } }[] };
    expect(decoded.outputs[0].contents.int64_contents).toEqual(labels.map(String));
    expect(decoded.outputs[1].contents.uint64_contents).toEqual(unsigned.map(String));
  });
});

describe('requestKey (the sticky canary key)', () => {
  it('is the request_key string parameter, else the request id, else undefined (random per request)', () => {
    expect(requestKey({ id: 'r1', parameters: { request_key: { string_param: 'user-7', parameter_choice: 'string_param' } } })).toBe('user-7');
    expect(requestKey({ id: 'r1', parameters: { request_key: { int64_param: '5', parameter_choice: 'int64_param' } } })).toBe('r1');
    expect(requestKey({ id: 'r1', parameters: {} })).toBe('r1');
    expect(requestKey({ id: '' })).toBeUndefined();
  });
});
