import { endianness } from 'node:os';
import { TENSOR_DATATYPES, type TensorArray, type TensorDatatype } from '@mlops/contracts';
import { InvalidInputError } from '@mlops/errors';

/** KServe v2 datatypes: the ones the prediction.logged contract carries. */
export const V2_DATATYPES = TENSOR_DATATYPES;
export type V2Datatype = TensorDatatype;
export type NumericArray = TensorArray;
export type TensorData = NumericArray | string[];

/** A tensor in host memory: row-major data of a v2 datatype. */
export interface HostTensor {
  datatype: V2Datatype;
  shape: number[];
  data: TensorData;
}

/** Where typed values of a datatype live in InferTensorContents. */
export type ContentsField =
  | 'bool_contents'
  | 'int_contents'
  | 'int64_contents'
  | 'uint_contents'
  | 'uint64_contents'
  | 'fp32_contents'
  | 'fp64_contents'
  | 'bytes_contents';

interface NumericCtor {
  new (length: number): NumericArray;
  new (buffer: ArrayBuffer, byteOffset?: number, length?: number): NumericArray;
}

interface DatatypeInfo {
  /** onnxruntime's tensor type name */
  ort: string;
  /** bytes per element in raw contents; 0 for BYTES (length-prefixed) */
  size: number;
  array?: NumericCtor;
  contents?: ContentsField;
}

export const DATATYPES: Record<V2Datatype, DatatypeInfo> = {
  BOOL: { ort: 'bool', size: 1, array: Uint8Array, contents: 'bool_contents' },
  UINT8: { ort: 'uint8', size: 1, array: Uint8Array, contents: 'uint_contents' },
  UINT16: { ort: 'uint16', size: 2, array: Uint16Array, contents: 'uint_contents' },
  UINT32: { ort: 'uint32', size: 4, array: Uint32Array, contents: 'uint_contents' },
  UINT64: { ort: 'uint64', size: 8, array: BigUint64Array, contents: 'uint64_contents' },
  INT8: { ort: 'int8', size: 1, array: Int8Array, contents: 'int_contents' },
  INT16: { ort: 'int16', size: 2, array: Int16Array, contents: 'int_contents' },
  INT32: { ort: 'int32', size: 4, array: Int32Array, contents: 'int_contents' },
  INT64: { ort: 'int64', size: 8, array: BigInt64Array, contents: 'int64_contents' },
  // FP16 travels as raw bytes only (the protocol has no typed field for it).
  FP16: { ort: 'float16', size: 2, array: Uint16Array },
  FP32: { ort: 'float32', size: 4, array: Float32Array, contents: 'fp32_contents' },
  FP64: { ort: 'float64', size: 8, array: Float64Array, contents: 'fp64_contents' },
  BYTES: { ort: 'string', size: 0, contents: 'bytes_contents' },
};

const ORT_TO_V2 = new Map<string, V2Datatype>(
  (Object.entries(DATATYPES) as [V2Datatype, DatatypeInfo][]).map(([v2, info]) => [info.ort, v2]),
);

/** onnxruntime type name (float32, int64, ...) -> v2 datatype (FP32, INT64, ...). */
export function v2DatatypeOf(ortType: string): V2Datatype | undefined {
  return ORT_TO_V2.get(ortType);
}

export function isV2Datatype(value: string): value is V2Datatype {
  return (V2_DATATYPES as readonly string[]).includes(value);
}

/** The protocol's raw contents are little-endian; so are typed arrays on the hosts we run on. */
export function assertLittleEndianHost(): void {
  if (endianness() !== 'LE') throw new Error('serving needs a little-endian host (raw tensor contents are little-endian)');
}

/** A request that does not fit the model or the protocol (gRPC INVALID_ARGUMENT, through grpcStatusOf). */
export class InferError extends InvalidInputError {}

export const invalid = (message: string) => new InferError(message);

export const elementCount = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);
export const formatShape = (shape: readonly number[]) => `[${shape.join(',')}]`;

/** Copies the bytes out so the typed array is aligned and owns its memory. */
function viewRaw(info: DatatypeInfo, bytes: Buffer, count: number): NumericArray {
  const copy = new ArrayBuffer(count * info.size);
  new Uint8Array(copy).set(bytes.subarray(0, count * info.size));
  return new info.array!(copy, 0, count);
}

/** BYTES raw contents: each element is a 4-byte little-endian length, then its bytes. */
export function decodeRawBytes(tensor: string, bytes: Buffer, count: number, source = 'raw_input_contents'): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 4 > bytes.length) throw invalid(`input tensor '${tensor}': truncated BYTES element length at byte ${at} of its ${source}`);
    const length = bytes.readUInt32LE(at);
    at += 4;
    if (at + length > bytes.length) throw invalid(`input tensor '${tensor}': BYTES element ${out.length} runs past its ${source}`);
    out.push(bytes.toString('utf8', at, at + length));
    at += length;
  }
  if (out.length !== count) {
    throw invalid(`input tensor '${tensor}': ${source} holds ${out.length} BYTES elements, expected ${count} for its shape`);
  }
  return out;
}

export function encodeRawBytes(values: string[]): Buffer {
  const parts: Buffer[] = [];
  for (const v of values) {
    const body = Buffer.from(v, 'utf8');
    const head = Buffer.alloc(4);
    head.writeUInt32LE(body.length);
    parts.push(head, body);
  }
  return Buffer.concat(parts);
}

/** Raw little-endian bytes -> a typed tensor; the byte size must be exactly shape x dtype. */
export function fromRaw(tensor: string, datatype: V2Datatype, shape: number[], bytes: Buffer, source = 'raw_input_contents'): HostTensor {
  const info = DATATYPES[datatype];
  const count = elementCount(shape);
  if (datatype === 'BYTES') return { datatype, shape, data: decodeRawBytes(tensor, bytes, count, source) };
  const expected = count * info.size;
  if (bytes.length !== expected) {
    throw invalid(
      `input tensor '${tensor}': ${source} has ${bytes.length} bytes, expected ${expected} ` +
        `(shape ${formatShape(shape)} = ${count} elements x ${info.size} bytes of ${datatype})`,
    );
  }
  return { datatype, shape, data: viewRaw(info, bytes, count) };
}

/**
 * A contents field's values: a list (numbers, int64 as strings, bytes as Buffers), or for FP32
 * and FP64 a Float32Array / Float64Array (the gRPC request decoder, typed-contents.ts).
 */
export type ContentsValues = unknown[] | Float32Array | Float64Array;

/** How many values a contents field holds (0 when it is absent or not a list). */
export function contentsLength(values: unknown): number {
  return Array.isArray(values) || values instanceof Float32Array || values instanceof Float64Array ? values.length : 0;
}

/** Typed contents, as the gRPC request decoder gives them (see ContentsValues). */
export function fromContents(
  tensor: string,
  datatype: V2Datatype,
  shape: number[],
  contents: Partial<Record<ContentsField, ContentsValues>> | null | undefined,
): HostTensor {
  const info = DATATYPES[datatype];
  const count = elementCount(shape);
  if (!info.contents) {
    throw invalid(`input tensor '${tensor}': ${datatype} has no typed contents field; send it in raw_input_contents`);
  }
  const values = contents?.[info.contents] ?? [];
  if (values.length === 0) {
    const misplaced = Object.entries(contents ?? {}).find(([field, list]) => field !== info.contents && contentsLength(list) > 0);
    if (misplaced) throw invalid(`input tensor '${tensor}': ${datatype} data must be in contents.${info.contents}, got contents.${misplaced[0]}`);
  }
  if (values.length !== count) {
    throw invalid(
      `input tensor '${tensor}': contents.${info.contents} has ${values.length} values, expected ${count} for shape ${formatShape(shape)}`,
    );
  }
  if (datatype === 'BYTES') {
    return { datatype, shape, data: Array.from(values as unknown[], (v) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v))) };
  }
  const data = new info.array!(count);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    for (let i = 0; i < count; i++) data[i] = BigInt((values as unknown[])[i] as string | number);
  } else {
    // Same conversion as Number(value) per element (proto-loader gives numbers, booleans for BOOL).
    (data as Float64Array).set(values as number[]);
  }
  return { datatype, shape, data };
}

export function toRaw(t: HostTensor): Buffer {
  if (Array.isArray(t.data)) return encodeRawBytes(t.data);
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

export function toContents(t: HostTensor): Partial<Record<ContentsField, unknown[]>> {
  const field = DATATYPES[t.datatype].contents;
  // Not a domain error: answered INTERNAL, as before.
  if (!field) throw new Error(`${t.datatype} output needs raw_output_contents; send the request with raw_input_contents`);
  const data = t.data;
  if (Array.isArray(data)) return { [field]: data.map((s) => Buffer.from(s, 'utf8')) };
  if (t.datatype === 'BOOL') return { [field]: Array.from(data as Uint8Array, (v) => v !== 0) };
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return { [field]: int64Halves(data) };
  return { [field]: Array.from(data as Float32Array) };
}

/**
 * 64-bit integers as their 32-bit halves ({ low, high }, little-endian like the whole server):
 * protobufjs encodes those as they are, where a decimal string is parsed into a Long per value.
 */
function int64Halves(data: BigInt64Array | BigUint64Array): { low: number; high: number }[] {
  const words = new Int32Array(data.buffer, data.byteOffset, data.length * 2);
  const out = new Array<{ low: number; high: number }>(data.length);
  for (let i = 0; i < data.length; i++) out[i] = { low: words[2 * i], high: words[2 * i + 1] };
  return out;
}

/** Elements [start, end) as a new tensor data (a copy). */
export function sliceData(data: TensorData, start: number, end: number): TensorData {
  return data.slice(start, end);
}

/** Concatenates same-typed data. */
export function concatData(parts: TensorData[]): TensorData {
  if (Array.isArray(parts[0])) return (parts as string[][]).flat();
  const total = parts.reduce((n, p) => n + p.length, 0);
  const first = parts[0] as NumericArray;
  const out = new (first.constructor as NumericCtor)(total);
  let at = 0;
  for (const p of parts as NumericArray[]) {
    (out as Float32Array).set(p as Float32Array, at);
    at += p.length;
  }
  return out;
}

/** FP16 data is kept as its 16 bits; the contract's codec decodes them the same way for the monitor. */
export { halfToNumber } from '@mlops/contracts';
