import { resolve } from 'node:path';
import { Reader, Root, type Type } from 'protobufjs';

const PACKED = 2;
const FIELDS = [
  '',
  'bool_contents',
  'int_contents',
  'int64_contents',
  'uint_contents',
  'uint64_contents',
  'fp32_contents',
  'fp64_contents',
  'bytes_contents',
] as const;

type Contents = Record<(typeof FIELDS)[number], unknown[] | Float32Array | Float64Array>;

/**
 * The request decoder of ModelInfer and ModelStreamInfer: what proto-loader's deserializer
 * gives (field names as written, 64-bit integers as decimal strings, defaults filled), except
 * that `fp32_contents` and `fp64_contents` arrive as a Float32Array and a Float64Array.
 *
 * proto-loader reads a packed float field one value at a time into a JS array, and converts
 * that array into a second one (toObject): at 100 rows x 30 features that was most of a
 * request's CPU time. Here the packed bytes are copied once into the typed array serving
 * hands onnxruntime. Protobuf's fixed32/fixed64 are little-endian, as the typed arrays are on
 * the little-endian hosts Node runs on (x64, arm64).
 */
export function inferRequestDeserializer(protoDir: string, file: string): (buffer: Buffer) => unknown {
  const root = new Root().loadSync(resolve(protoDir, file), { keepCase: true });
  root.resolveAll();
  const request = root.lookupType('inference.ModelInferRequest');
  const contents = root.lookupType('inference.InferTensorContents');
  // Generate the stock coders first, so a later lazy setup cannot put them back over ours.
  contents.setup();
  Object.assign(contents, { decode: decodeContents, toObject: (message: Contents) => message });
  const options = { longs: String, enums: String, defaults: true, oneofs: true };
  return (buffer) => request.toObject(request.decode(buffer), options);
}

function decodeContents(this: Type, input: Reader | Uint8Array, length?: number): Contents {
  const reader = input instanceof Reader ? input : Reader.create(input);
  const end = length === undefined ? reader.len : reader.pos + length;
  const lists: Record<string, unknown[]> = {};
  const typed: Partial<Record<'fp32_contents' | 'fp64_contents', Float32Array | Float64Array>> = {};
  while (reader.pos < end) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 6 || field === 7) {
      const name = FIELDS[field] as 'fp32_contents' | 'fp64_contents';
      if (wire === PACKED && !lists[name]) {
        const bytes = reader.uint32();
        const values = field === 6 ? new Float32Array(bytes >>> 2) : new Float64Array(bytes >>> 3);
        new Uint8Array(values.buffer).set(reader.buf.subarray(reader.pos, reader.pos + values.byteLength));
        reader.pos += bytes;
        typed[name] = concat(typed[name], values);
        continue;
      }
    }
    if (field < 1 || field > 8) {
      reader.skipType(wire);
      continue;
    }
    const name = FIELDS[field];
    const list = (lists[name] ??= typed[name as 'fp32_contents'] ? Array.from(typed[name as 'fp32_contents']!) : []);
    delete typed[name as 'fp32_contents'];
    if (field === 8) {
      list.push(Buffer.from(reader.bytes()));
      continue;
    }
    if (wire === PACKED) {
      const stop = reader.uint32() + reader.pos;
      while (reader.pos < stop) list.push(readScalar(reader, field));
    } else {
      list.push(readScalar(reader, field));
    }
  }
  const message = {} as Contents;
  for (let field = 1; field <= 8; field++) {
    const name = FIELDS[field];
    const list = lists[name];
    if (field === 6) message[name] = typed.fp32_contents ?? Float32Array.from((list ?? []) as number[]);
    else if (field === 7) message[name] = typed.fp64_contents ?? Float64Array.from((list ?? []) as number[]);
    else message[name] = list ?? [];
  }
  return message;
}

function readScalar(reader: Reader, field: number): unknown {
  switch (field) {
    case 1:
      return reader.bool();
    case 2:
      return reader.int32();
    case 3:
      return reader.int64().toString();
    case 4:
      return reader.uint32();
    case 5:
      return reader.uint64().toString();
    case 6:
      return reader.float();
    default:
      return reader.double();
  }
}

/** Two packed runs of one field (legal protobuf, rare) joined. */
function concat<T extends Float32Array | Float64Array>(before: T | undefined, values: T): T {
  if (!before) return values;
  const joined = new (values.constructor as new (n: number) => T)(before.length + values.length);
  joined.set(before);
  joined.set(values, before.length);
  return joined;
}
