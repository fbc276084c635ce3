// The one codec of prediction.logged v2 (a request's tensors, not rows): serving encodes with
// it, monitoring decodes with it, and the contract (payloads.ts, json-event-shortcut.ts) checks
// sizes with it. A tensor travels as its little-endian bytes in base64 (KServe v2 raw contents:
// BYTES elements are a 4-byte little-endian length and their UTF-8), so the writer never
// formats a number and the reader gets typed arrays without parsing one.
import { endianness } from 'node:os';
import type { ContractIssue } from './envelope';

/** prediction.logged v2 carries `schemaVersion: 2`; a v1 (per-row) payload has no such field. */
export const PREDICTION_TENSORS_VERSION = 2;

/** KServe v2 datatypes serving accepts and logs. */
export const TENSOR_DATATYPES = [
  'BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES',
] as const;
export type TensorDatatype = (typeof TENSOR_DATATYPES)[number];

export type TensorArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

type ArrayCtor = { new (buffer: ArrayBuffer, byteOffset: number, length: number): TensorArray; BYTES_PER_ELEMENT: number };

/** The typed array of each fixed-size datatype (BOOL: 0/1 bytes; FP16: its 16 bits). */
const ARRAYS: Record<Exclude<TensorDatatype, 'BYTES'>, ArrayCtor> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  FP16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
};

/** Bytes per element; 0 for BYTES (length-prefixed elements). */
export const elementBytes = (datatype: TensorDatatype): number => (datatype === 'BYTES' ? 0 : ARRAYS[datatype].BYTES_PER_ELEMENT);

/** One tensor as it travels: `data` is base64 of its little-endian bytes. */
export interface WireTensor {
  name: string;
  datatype: TensorDatatype;
  shape: number[];
  data: string;
  /** The names of one row's elements, in order (the model's feature names); absent when the model has none. */
  featureNames?: string[];
}

/** The prediction.logged v2 payload. */
export interface PredictionTensorsPayload {
  schemaVersion: 2;
  model: string;
  version: number;
  /** The request's id (also the canary split key when no request_key was given). */
  requestKey?: string;
  /** A shadow version's answer to the request (never returned to the client). */
  shadow?: true;
  latencyMs: number;
  /** The ids of the sampled rows, in the order of `rows` (`<request id>:<row>`). */
  predictionIds: string[];
  /** The sampled row indices along the batch dimension, ascending. */
  rows: number[];
  /** Every tensor has the batch dimension first (serving adds a 1 for a model that does not batch). */
  inputs: WireTensor[];
  outputs: WireTensor[];
}

/** A tensor the writer hands over: typed data as the server holds it, or BYTES as strings. */
export interface HostTensorInput {
  name: string;
  datatype: TensorDatatype;
  shape: readonly number[];
  data: ArrayBufferView | readonly string[];
  featureNames?: readonly string[];
}

const count = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);

/** KServe raw BYTES contents: each element a 4-byte little-endian length, then its UTF-8. */
export function encodeBytesElements(values: readonly string[]): Buffer {
  const bodies = values.map((v) => Buffer.from(v, 'utf8'));
  const out = Buffer.allocUnsafe(bodies.reduce((n, b) => n + 4 + b.length, 0));
  let at = 0;
  for (const body of bodies) {
    out.writeUInt32LE(body.length, at);
    body.copy(out, at + 4);
    at += 4 + body.length;
  }
  return out;
}

const LITTLE_ENDIAN = endianness() === 'LE';

/** The wire form of one tensor. Typed arrays go as they are in memory, which must be little-endian. */
export function encodeTensor(tensor: HostTensorInput): WireTensor {
  const { name, datatype, data } = tensor;
  let bytes: Buffer;
  if (datatype === 'BYTES') {
    if (!Array.isArray(data)) throw new TypeError(`tensor '${name}': BYTES data must be strings`);
    bytes = encodeBytesElements(data as string[]);
  } else {
    if (Array.isArray(data) || !ArrayBuffer.isView(data)) throw new TypeError(`tensor '${name}': ${datatype} data must be a typed array`);
    if (!LITTLE_ENDIAN && data.byteLength > 1) throw new Error('prediction.logged tensors are little-endian; this host is big-endian');
    bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  }
  const wire: WireTensor = { name, datatype, shape: [...tensor.shape], data: bytes.toString('base64') };
  if (tensor.featureNames) wire.featureNames = [...tensor.featureNames];
  return wire;
}

export interface PredictionTensorsInput {
  model: string;
  version: number;
  requestKey?: string;
  shadow?: boolean;
  latencyMs: number;
  predictionIds: string[];
  rows: number[];
  inputs: readonly HostTensorInput[];
  outputs: readonly HostTensorInput[];
}

/** The v2 payload of a request (not validated here: createEvent or the writer's spec does that). */
export function encodePredictionTensors(input: PredictionTensorsInput): PredictionTensorsPayload {
  const payload: PredictionTensorsPayload = {
    schemaVersion: PREDICTION_TENSORS_VERSION,
    model: input.model,
    version: input.version,
    latencyMs: input.latencyMs,
    predictionIds: input.predictionIds,
    rows: input.rows,
    inputs: input.inputs.map(encodeTensor),
    outputs: input.outputs.map(encodeTensor),
  };
  if (input.requestKey !== undefined) payload.requestKey = input.requestKey;
  if (input.shadow) payload.shadow = true;
  return payload;
}

/** Decoded byte length of a base64 string, or -1 when its length cannot be base64. */
function base64Bytes(text: string): number {
  if (text.length % 4 !== 0) return -1;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return (text.length / 4) * 3 - padding;
}

/** The element count of KServe raw BYTES contents, or a message saying where they break. */
function bytesElements(bytes: Buffer): number | string {
  let n = 0;
  let at = 0;
  while (at < bytes.length) {
    if (at + 4 > bytes.length) return `truncated BYTES element length at byte ${at}`;
    const length = bytes.readUInt32LE(at);
    at += 4;
    if (at + length > bytes.length) return `BYTES element ${n} runs past the end of the data`;
    at += length;
    n++;
  }
  return n;
}

type TensorFields = Pick<WireTensor, 'name' | 'datatype' | 'shape' | 'data' | 'featureNames'>;

/** Feature names that do not name one row's elements one to one. */
function featureNameIssues(names: readonly string[], shape: readonly number[], field: string): ContractIssue[] {
  const rowSize = count(shape.slice(1));
  if (names.length !== rowSize) return [{ field: `${field}.featureNames`, message: `has ${names.length} names, expected one per element of a row (${rowSize} for shape [${shape.join(',')}])` }];
  const seen = new Set<string>();
  for (let i = 0; i < names.length; i++) {
    if (seen.has(names[i])) return [{ field: `${field}.featureNames.${i}`, message: `'${names[i]}' appears more than once` }];
    seen.add(names[i]);
  }
  return [];
}

/** What is wrong with one wire tensor's data for its shape and datatype (checked without decoding fixed-size data). */
function tensorIssues(tensor: TensorFields, field: string, rowCount: number): ContractIssue[] {
  const issues: ContractIssue[] = [];
  const { shape, datatype, data } = tensor;
  if (shape.length === 0) issues.push({ field: `${field}.shape`, message: 'must have the batch dimension first (at least one dimension)' });
  else if (shape[0] !== rowCount) issues.push({ field: `${field}.shape`, message: `batch dimension is ${shape[0]}, expected ${rowCount} as the first input's` });
  if (tensor.featureNames && shape.length > 0) issues.push(...featureNameIssues(tensor.featureNames, shape, field));
  const elements = count(shape);
  const size = base64Bytes(data);
  if (size < 0) return [...issues, { field: `${field}.data`, message: `not base64 (length ${data.length} is not a multiple of 4)` }];
  if (datatype === 'BYTES') {
    const bytes = Buffer.from(data, 'base64');
    if (bytes.length !== size) return [...issues, { field: `${field}.data`, message: 'not base64 (characters outside the alphabet)' }];
    const found = bytesElements(bytes);
    if (typeof found === 'string') issues.push({ field: `${field}.data`, message: found });
    else if (found !== elements) issues.push({ field: `${field}.data`, message: `holds ${found} BYTES elements, expected ${elements} for shape [${shape.join(',')}]` });
    return issues;
  }
  const expected = elements * elementBytes(datatype);
  if (size !== expected) {
    issues.push({
      field: `${field}.data`,
      message: `holds ${size} bytes, expected ${expected} (shape [${shape.join(',')}] = ${elements} elements x ${elementBytes(datatype)} bytes of ${datatype})`,
    });
  }
  return issues;
}

/** Sampled rows out of range or out of order, or prediction ids not one per sampled row. */
function rowIssues(rows: readonly number[], predictionIds: readonly string[], rowCount: number): ContractIssue[] {
  const issues: ContractIssue[] = [];
  for (let i = 0; i < rows.length; i++) {
    if (rows[i] >= rowCount) issues.push({ field: `rows.${i}`, message: `row ${rows[i]} is outside the ${rowCount} rows of the tensors` });
    else if (i > 0 && rows[i] <= rows[i - 1]) issues.push({ field: `rows.${i}`, message: 'sampled rows must be ascending and distinct' });
  }
  if (predictionIds.length !== rows.length) {
    issues.push({ field: 'predictionIds', message: `has ${predictionIds.length} ids, expected one per sampled row (${rows.length})` });
  }
  return issues;
}

/**
 * Every way a v2 payload (already of the right field types) breaks the contract: sizes that
 * do not fit shape x datatype, tensors that disagree on the batch dimension, duplicate names,
 * sampled rows out of range or out of order, or prediction ids not one per sampled row.
 */
export function predictionTensorsIssues(payload: Pick<PredictionTensorsPayload, 'inputs' | 'outputs' | 'rows' | 'predictionIds'>): ContractIssue[] {
  const issues: ContractIssue[] = [];
  const rowCount = payload.inputs[0]?.shape[0] ?? 0;
  for (const side of ['inputs', 'outputs'] as const) {
    const names = new Set<string>();
    payload[side].forEach((tensor, i) => {
      if (names.has(tensor.name)) issues.push({ field: `${side}.${i}.name`, message: `tensor '${tensor.name}' appears more than once` });
      names.add(tensor.name);
      issues.push(...tensorIssues(tensor, `${side}.${i}`, rowCount));
    });
  }
  issues.push(...rowIssues(payload.rows, payload.predictionIds, rowCount));
  return issues;
}

/** A decoded tensor: typed data (fixed-size datatypes) or strings (BYTES). */
export interface DecodedTensor {
  name: string;
  datatype: TensorDatatype;
  shape: number[];
  data: TensorArray | string[];
  /** Elements per row (the product of the dimensions after the batch dimension). */
  rowSize: number;
  /** The names of a row's elements, when the writer sent them. */
  featureNames?: string[];
}

/** A payload that does not decode: which field, and why. */
export class TensorDecodeError extends Error {
  constructor(readonly issues: ContractIssue[]) {
    super(`prediction.logged tensors do not decode: ${issues.map((i) => `data.${i.field}: ${i.message}`).join('; ')}`);
    // The bus dead-letters a ContractViolation at once (no retries): so is this.
    this.name = 'ContractViolation';
  }
}

function decodeTensor(tensor: WireTensor, field: string, rowCount: number): DecodedTensor {
  const issues = tensorIssues(tensor, field, rowCount);
  if (issues.length > 0) throw new TensorDecodeError(issues);
  const { name, datatype, shape, featureNames } = tensor;
  const rowSize = count(shape.slice(1));
  const named = featureNames ? { featureNames } : {};
  const bytes = Buffer.from(tensor.data, 'base64');
  if (bytes.length !== base64Bytes(tensor.data)) throw new TensorDecodeError([{ field: `${field}.data`, message: 'not base64 (characters outside the alphabet)' }]);
  if (datatype === 'BYTES') {
    const out: string[] = [];
    for (let at = 0; at < bytes.length; ) {
      const length = bytes.readUInt32LE(at);
      out.push(bytes.toString('utf8', at + 4, at + 4 + length));
      at += 4 + length;
    }
    return { name, datatype, shape, data: out, rowSize, ...named };
  }
  const ctor = ARRAYS[datatype];
  const elements = bytes.length / ctor.BYTES_PER_ELEMENT;
  // A typed array needs an offset that is a multiple of its element size; copy when the pool's is not.
  const aligned = bytes.byteOffset % ctor.BYTES_PER_ELEMENT === 0 ? bytes : Buffer.from(bytes);
  return { name, datatype, shape, data: new ctor(aligned.buffer as ArrayBuffer, aligned.byteOffset, elements), rowSize, ...named };
}

/** A decoded v2 payload: typed arrays, plus a row view (PredictionRows) over them. */
export interface PredictionTensors {
  model: string;
  version: number;
  requestKey?: string;
  shadow?: true;
  latencyMs: number;
  /** Rows along the batch dimension (all rows, sampled or not). */
  rowCount: number;
  predictionIds: string[];
  rows: number[];
  inputs: DecodedTensor[];
  outputs: DecodedTensor[];
}

/** Decodes a v2 payload into typed arrays; a payload that does not fit its shapes is a TensorDecodeError naming the field. */
export function decodePredictionTensors(payload: PredictionTensorsPayload): PredictionTensors {
  if (!LITTLE_ENDIAN) throw new Error('prediction.logged tensors are little-endian; this host is big-endian');
  const rowCount = payload.inputs[0]?.shape[0] ?? 0;
  const issues = rowIssues(payload.rows, payload.predictionIds, rowCount);
  if (issues.length > 0) throw new TensorDecodeError(issues);
  return {
    model: payload.model,
    version: payload.version,
    requestKey: payload.requestKey,
    shadow: payload.shadow,
    latencyMs: payload.latencyMs,
    rowCount,
    predictionIds: payload.predictionIds,
    rows: payload.rows,
    inputs: payload.inputs.map((t, i) => decodeTensor(t, `inputs.${i}`, rowCount)),
    outputs: payload.outputs.map((t, i) => decodeTensor(t, `outputs.${i}`, rowCount)),
  };
}
