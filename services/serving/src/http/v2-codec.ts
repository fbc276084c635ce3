import type { InferRequestMessage } from '../infer-request';
import type { InferOutcome } from '../inference.service';
import { DATATYPES, elementCount, formatShape, halfToNumber, invalid, isV2Datatype, toRaw, type ContentsValues, type HostTensor, type V2Datatype } from '../tensors';

/** The header that says how many leading bytes of a body are JSON (Triton's binary tensor data extension). */
export const HEADER_LENGTH = 'inference-header-content-length';

/** A v2 REST infer request, read: the message the inference path takes, and which outputs go back as binary data. */
export interface RestInferRequest {
  message: InferRequestMessage;
  binaryOutput(name: string): boolean;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Integer ranges of the datatypes JSON numbers are checked against (64-bit ones: safe integers). */
const INTEGER_RANGE: Partial<Record<V2Datatype, [number, number]>> = {
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-(2 ** 31), 2 ** 31 - 1],
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 2 ** 32 - 1],
  UINT64: [0, Number.MAX_SAFE_INTEGER],
};

/** JSON `data` (flat or nested row-major) of one input -> the typed contents the gRPC path decodes. */
function jsonContents(name: string, datatype: V2Datatype, shape: number[], data: unknown): Record<string, ContentsValues> {
  if (!Array.isArray(data)) throw invalid(`input tensor '${name}': data must be an array (or give parameters.binary_data_size)`);
  // Most clients send the flat form: copied only when nested.
  const values: unknown[] = data.some(Array.isArray) ? (data as unknown[]).flat(Infinity) : data;
  const count = elementCount(shape);
  if (values.length !== count) throw invalid(`input tensor '${name}': data has ${values.length} values, expected ${count} for shape ${formatShape(shape)}`);
  const field = DATATYPES[datatype].contents;
  if (!field) throw invalid(`input tensor '${name}': ${datatype} cannot be sent as JSON data; send it as binary data (parameters.binary_data_size)`);
  const range = INTEGER_RANGE[datatype];
  const expected = datatype === 'BOOL' ? 'true or false' : datatype === 'BYTES' ? 'a string' : range ? `an integer in [${range[0]}, ${range[1]}]` : 'a number';
  const refuse = (i: number) => invalid(`input tensor '${name}': data[${i}] is ${JSON.stringify(values[i])}, expected ${expected} for ${datatype}`);
  if (datatype === 'FP32' || datatype === 'FP64') {
    // Checked and written in one pass into the typed array the gRPC decoder would give.
    const typed = datatype === 'FP32' ? new Float32Array(count) : new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const v = values[i];
      if (typeof v !== 'number') throw refuse(i);
      typed[i] = v;
    }
    return { [field]: typed };
  }
  for (let i = 0; i < count; i++) {
    const v = values[i];
    const ok =
      datatype === 'BOOL' ? typeof v === 'boolean'
      : datatype === 'BYTES' ? typeof v === 'string'
      : range ? Number.isInteger(v) && (v as number) >= range[0] && (v as number) <= range[1]
      : typeof v === 'number';
    if (!ok) throw refuse(i);
  }
  return { [field]: values };
}

function shapeOf(name: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw invalid(`input tensor '${name}': shape must be an array of integers >= 0, got ${JSON.stringify(shape)}`);
  }
  return shape as number[];
}

/** The request's JSON header and the binary data after it. */
function split(body: Buffer, headerLength: string | undefined): { header: Buffer; binary: Buffer } {
  if (headerLength === undefined) return { header: body, binary: body.subarray(body.length) };
  const length = Number(headerLength);
  if (!/^\d+$/.test(headerLength) || length > body.length) {
    throw invalid(`Inference-Header-Content-Length must be the byte length of the JSON header, at most the body's ${body.length} bytes; got '${headerLength}'`);
  }
  return { header: body.subarray(0, length), binary: body.subarray(length) };
}

/** Request parameters as the inference path reads them (request_key, as gRPC's InferParameter). */
function parametersOf(parameters: Json): Record<string, unknown> {
  const key = parameters.request_key;
  if (key === undefined) return {};
  if (typeof key !== 'string') throw invalid(`parameters.request_key must be a string, got ${JSON.stringify(key)}`);
  return { request_key: { parameter_choice: 'string_param', string_param: key } };
}

/**
 * Reads a v2 REST infer request: JSON, or JSON then binary tensor data (`Inference-Header-Content-Length`,
 * each binary input's `parameters.binary_data_size`, in input order). Every problem names the
 * tensor or field; the model's own checks (names, datatypes, shapes) follow in decodeRequest.
 */
export function readInferRequest(body: Buffer, headerLength: string | undefined, model: string, version: string): RestInferRequest {
  const { header, binary } = split(body, headerLength);
  let json: unknown;
  try {
    json = JSON.parse(header.toString('utf8'));
  } catch (error) {
    throw invalid(`request body is not JSON${headerLength === undefined ? '' : ' (its first Inference-Header-Content-Length bytes)'}: ${(error as Error).message}`);
  }
  if (!isObject(json)) throw invalid('request body must be a JSON object with an inputs array');
  const { id = '', inputs, outputs = [], parameters = {} } = json;
  if (typeof id !== 'string') throw invalid(`id must be a string, got ${JSON.stringify(id)}`);
  if (!isObject(parameters)) throw invalid('parameters must be an object');
  if (!Array.isArray(inputs) || inputs.length === 0) throw invalid('inputs must be a non-empty array of tensors ({name, shape, datatype, data})');
  if (!Array.isArray(outputs)) throw invalid('outputs must be an array of {name}');
  let offset = 0;
  const messageInputs: InferRequestMessage['inputs'] = inputs.map((input: unknown, index) => {
    if (!isObject(input) || typeof input.name !== 'string' || input.name === '') throw invalid(`inputs[${index}].name must be a non-empty string`);
    const name = input.name;
    if (typeof input.datatype !== 'string') throw invalid(`input tensor '${name}': datatype must be a string such as "FP32"`);
    const shape = shapeOf(name, input.shape);
    const params = input.parameters ?? {};
    if (!isObject(params)) throw invalid(`input tensor '${name}': parameters must be an object`);
    const size = params.binary_data_size;
    if (size !== undefined) {
      if (!Number.isSafeInteger(size) || (size as number) < 0) throw invalid(`input tensor '${name}': parameters.binary_data_size must be an integer >= 0, got ${JSON.stringify(size)}`);
      if (input.data !== undefined) throw invalid(`input tensor '${name}': has both data and parameters.binary_data_size; send one`);
      if (offset + (size as number) > binary.length) {
        throw invalid(`input tensor '${name}': binary_data_size ${size as number} runs past the body (${binary.length - offset} bytes of binary data left)`);
      }
      const bytes = binary.subarray(offset, offset + (size as number));
      offset += size as number;
      return { name, datatype: input.datatype, shape, binary: bytes };
    }
    if (input.data === undefined) throw invalid(`input tensor '${name}': no data (give data, or parameters.binary_data_size and the bytes after the JSON header)`);
    // A datatype that is not v2 (or not the model's) is reported by decodeRequest, with what the model expects.
    const contents = isV2Datatype(input.datatype) ? jsonContents(name, input.datatype, shape, input.data) : {};
    return { name, datatype: input.datatype, shape, contents };
  });
  if (offset !== binary.length) {
    throw invalid(`the body has ${binary.length} bytes of binary data after the JSON header, but the inputs' binary_data_size add up to ${offset}`);
  }
  const binaryByDefault = parameters.binary_data_output === true;
  const binaryOutputs = new Map<string, boolean>();
  const requested = outputs.map((output: unknown, index) => {
    if (!isObject(output) || typeof output.name !== 'string' || output.name === '') throw invalid(`outputs[${index}].name must be a non-empty string`);
    const flag = isObject(output.parameters) ? output.parameters.binary_data : undefined;
    binaryOutputs.set(output.name, typeof flag === 'boolean' ? flag : binaryByDefault);
    return { name: output.name };
  });
  return {
    message: { model_name: model, model_version: version, id, parameters: parametersOf(parameters), inputs: messageInputs, outputs: requested },
    binaryOutput: (name) => binaryOutputs.get(name) ?? binaryByDefault,
  };
}

/** Output data as JSON values: FP16 decoded from its bits, 64-bit integers as numbers, BOOL as booleans. */
function jsonData(t: HostTensor): unknown[] {
  const data = t.data;
  if (Array.isArray(data)) return data;
  if (t.datatype === 'BOOL') return Array.from(data as Uint8Array, (v) => v !== 0);
  if (t.datatype === 'FP16') return Array.from(data as Uint16Array, halfToNumber);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Array.from(data, Number);
  return Array.from(data as Float32Array);
}

/** The response body: JSON alone, or JSON then each binary output's bytes (`headerLength`: the JSON's byte length). */
export function writeInferResponse(outcome: InferOutcome, request: RestInferRequest): { body: Buffer; headerLength?: number } {
  const { model, decoded, results, route, predictionIds } = outcome;
  const blobs: Buffer[] = [];
  const outputs = decoded.outputs.map((name) => {
    const t = results[name];
    if (!request.binaryOutput(name)) return { name, datatype: t.datatype, shape: t.shape, data: jsonData(t) };
    const bytes = toRaw(t);
    blobs.push(bytes);
    return { name, datatype: t.datatype, shape: t.shape, parameters: { binary_data_size: bytes.length } };
  });
  const id = request.message.id;
  const header = Buffer.from(
    JSON.stringify({ model_name: model.name, model_version: String(model.version), ...(id ? { id } : {}), parameters: { route, prediction_ids: predictionIds }, outputs }),
    'utf8',
  );
  if (blobs.length === 0) return { body: header };
  return { body: Buffer.concat([header, ...blobs]), headerLength: header.length };
}
