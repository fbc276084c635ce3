import type { InferOutcome } from '../inference.service';
import type { LoadedModel } from '../model-repository';
import { encodeRawBytes } from '../tensors';
import { readInferRequest, writeInferResponse } from './v2-codec';

const body = (header: unknown, ...blobs: Buffer[]) => {
  const json = Buffer.from(JSON.stringify(header));
  return { bytes: Buffer.concat([json, ...blobs]), length: String(json.length) };
};

describe('v2 REST codec: reading infer requests', () => {
  it('puts JSON data (flat or nested) in the contents field of its datatype', () => {
    const { message } = readInferRequest(
      Buffer.from(
        JSON.stringify({
          id: 'q',
          parameters: { request_key: 'user-7' },
          inputs: [
            { name: 'f', datatype: 'FP32', shape: [2, 2], data: [[1, 2], [3, 4.5]] },
            { name: 'i', datatype: 'INT64', shape: [2], data: [-3, 9007199254740991] },
            { name: 'b', datatype: 'BOOL', shape: [1], data: [true] },
            { name: 's', datatype: 'BYTES', shape: [2], data: ['a', 'é'] },
          ],
        }),
      ),
      undefined,
      'm',
      '3',
    );
    expect(message).toMatchObject({ model_name: 'm', model_version: '3', id: 'q', parameters: { request_key: { string_param: 'user-7' } } });
    expect(message.inputs.map((i) => i.contents)).toEqual([
      { fp32_contents: Float32Array.of(1, 2, 3, 4.5) },
      { int64_contents: [-3, 9007199254740991] },
      { bool_contents: [true] },
      { bytes_contents: ['a', 'é'] },
    ]);
  });

  it('takes each binary input its binary_data_size bytes, in input order, between JSON inputs', () => {
    const strings = encodeRawBytes(['x', 'yz']);
    const floats = Buffer.from(new Float32Array([1, 2]).buffer);
    const { bytes, length } = body(
      {
        inputs: [
          { name: 's', datatype: 'BYTES', shape: [2], parameters: { binary_data_size: strings.length } },
          { name: 'j', datatype: 'INT32', shape: [1], data: [5] },
          { name: 'f', datatype: 'FP32', shape: [2], parameters: { binary_data_size: 8 } },
        ],
      },
      strings,
      floats,
    );
    const { message } = readInferRequest(bytes, length, 'm', '');
    expect(message.inputs[0].binary).toEqual(strings);
    expect(message.inputs[1].contents).toEqual({ int_contents: [5] });
    expect(message.inputs[2].binary).toEqual(floats);
  });

  it.each([
    [{ name: 'i', datatype: 'INT8', shape: [1], data: [200] }, /input tensor 'i': data\[0\] is 200, expected an integer in \[-128, 127\] for INT8/],
    [{ name: 'i', datatype: 'INT64', shape: [1], data: [1.5] }, /input tensor 'i': data\[0\] is 1.5, expected an integer/],
    [{ name: 'b', datatype: 'BOOL', shape: [1], data: [1] }, /input tensor 'b': data\[0\] is 1, expected true or false for BOOL/],
    [{ name: 's', datatype: 'BYTES', shape: [1], data: [3] }, /input tensor 's': data\[0\] is 3, expected a string for BYTES/],
    [{ name: 'h', datatype: 'FP16', shape: [1], data: [0.5] }, /input tensor 'h': FP16 cannot be sent as JSON data; send it as binary data/],
    [{ name: 'f', datatype: 'FP32', shape: [1, -1], data: [1] }, /input tensor 'f': shape must be an array of integers >= 0, got \[1,-1\]/],
    [{ name: 'f', datatype: 'FP32', shape: [1], data: 1 }, /input tensor 'f': data must be an array/],
    [{ datatype: 'FP32', shape: [1], data: [1] }, /inputs\[0\].name must be a non-empty string/],
    [{ name: 'f', shape: [1], data: [1] }, /input tensor 'f': datatype must be a string/],
    [{ name: 'f', datatype: 'FP32', shape: [1], data: [1], parameters: { binary_data_size: -1 } }, /binary_data_size must be an integer >= 0, got -1/],
  ])('refuses %j naming the tensor', (input, message) => {
    expect(() => readInferRequest(Buffer.from(JSON.stringify({ inputs: [input] })), undefined, 'm', '')).toThrow(message);
  });

  it('refuses a request-level problem naming the field', () => {
    const read = (json: unknown) => () => readInferRequest(Buffer.from(JSON.stringify(json)), undefined, 'm', '');
    const input = { name: 'f', datatype: 'FP32', shape: [1], data: [1] };
    expect(read([input])).toThrow(/request body must be a JSON object/);
    expect(read({ id: 5, inputs: [input] })).toThrow(/id must be a string, got 5/);
    expect(read({ inputs: [input], outputs: [{}] })).toThrow(/outputs\[0\].name must be a non-empty string/);
    expect(read({ inputs: [input], parameters: { request_key: 1 } })).toThrow(/parameters.request_key must be a string/);
    expect(() => readInferRequest(Buffer.from('{}'), 'abc', 'm', '')).toThrow(/Inference-Header-Content-Length must be the byte length of the JSON header, at most the body's 2 bytes; got 'abc'/);
  });

  it('binary_data_output for all outputs, an output parameter binary_data overriding it', () => {
    const request = readInferRequest(
      Buffer.from(JSON.stringify({ inputs: [{ name: 'f', datatype: 'FP32', shape: [1], data: [1] }], parameters: { binary_data_output: true }, outputs: [{ name: 'a', parameters: { binary_data: false } }, { name: 'b' }] })),
      undefined,
      'm',
      '',
    );
    expect([request.binaryOutput('a'), request.binaryOutput('b'), request.binaryOutput('c')]).toEqual([false, true, true]);
  });
});

describe('v2 REST codec: writing infer responses', () => {
  const model = { name: 'm', version: 2 } as LoadedModel;
  const outcome = (outputs: string[]): InferOutcome => ({
    model,
    route: 'canary',
    predictionIds: ['r-1:0', 'r-1:1'],
    decoded: { feeds: {}, rows: 2, outputs, raw: false },
    results: {
      p: { datatype: 'FP32', shape: [2, 1], data: new Float32Array([0.25, 0.5]) },
      l: { datatype: 'INT64', shape: [2], data: new BigInt64Array([1n, -2n]) },
      h: { datatype: 'FP16', shape: [1], data: new Uint16Array([0x3c00]) },
      ok: { datatype: 'BOOL', shape: [1], data: new Uint8Array([1]) },
      s: { datatype: 'BYTES', shape: [1], data: ['hé'] },
    },
  });
  const request = (binary: string[], id = '') => ({ message: { id } as never, binaryOutput: (name: string) => binary.includes(name) });

  it('writes JSON data: FP16 decoded, INT64 as numbers, BOOL as booleans, BYTES as strings; the id when given', () => {
    const { body, headerLength } = writeInferResponse(outcome(['p', 'l', 'h', 'ok', 's']), request([], 'r-1'));
    expect(headerLength).toBeUndefined();
    expect(JSON.parse(body.toString())).toEqual({
      model_name: 'm',
      model_version: '2',
      id: 'r-1',
      parameters: { route: 'canary', prediction_ids: ['r-1:0', 'r-1:1'] },
      outputs: [
        { name: 'p', datatype: 'FP32', shape: [2, 1], data: [0.25, 0.5] },
        { name: 'l', datatype: 'INT64', shape: [2], data: [1, -2] },
        { name: 'h', datatype: 'FP16', shape: [1], data: [1] },
        { name: 'ok', datatype: 'BOOL', shape: [1], data: [true] },
        { name: 's', datatype: 'BYTES', shape: [1], data: ['hé'] },
      ],
    });
  });

  it('writes binary outputs after the JSON header, each with its binary_data_size, in output order', () => {
    const { body, headerLength } = writeInferResponse(outcome(['s', 'p', 'l']), request(['s', 'l']));
    const header = JSON.parse(body.subarray(0, headerLength).toString());
    expect(header.id).toBeUndefined();
    expect(header.outputs).toEqual([
      { name: 's', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 7 } },
      { name: 'p', datatype: 'FP32', shape: [2, 1], data: [0.25, 0.5] },
      { name: 'l', datatype: 'INT64', shape: [2], parameters: { binary_data_size: 16 } },
    ]);
    const blobs = body.subarray(headerLength);
    expect(blobs.subarray(0, 7)).toEqual(encodeRawBytes(['hé']));
    expect(Array.from(new BigInt64Array(blobs.buffer.slice(blobs.byteOffset + 7, blobs.byteOffset + 23)))).toEqual([1n, -2n]);
  });
});
