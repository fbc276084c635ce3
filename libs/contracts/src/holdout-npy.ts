/**
 * The holdout rows a trainer writes beside a model (training.completed `holdoutUri`) and serving
 * times during warm-up: NPY format version 1.0, little-endian float32 (`<f4`), C order, shape
 * [rows, features], the features in the model's input order.
 */
export interface HoldoutRows {
  rows: number;
  features: number;
  /** rows x features values, row after row. */
  data: Float32Array;
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

/** The NPY v1.0 bytes of float32 rows (each row `features` long). */
export function encodeHoldoutNpy(rows: readonly (readonly number[])[], features: number): Buffer {
  for (const [i, row] of rows.entries()) if (row.length !== features) throw new Error(`holdout row ${i} has ${row.length} values; expected ${features}`);
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows.length}, ${features}), }`;
  // Magic (6) + version (2) + header length (2) + header, padded with spaces and a newline to a multiple of 64.
  const unpadded = MAGIC.length + 4 + header.length + 1;
  header = `${header}${' '.repeat((64 - (unpadded % 64)) % 64)}\n`;
  const head = Buffer.alloc(MAGIC.length + 4);
  MAGIC.copy(head);
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.alloc(rows.length * features * 4);
  rows.forEach((row, r) => row.forEach((value, f) => body.writeFloatLE(value, (r * features + f) * 4)));
  return Buffer.concat([head, Buffer.from(header, 'latin1'), body]);
}

/** Reads NPY v1/v2 bytes of a little-endian float32 C-order [rows, features] array; anything else is refused saying what was expected. */
export function decodeHoldoutNpy(bytes: Uint8Array): HoldoutRows {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < 10 || !buffer.subarray(0, 6).equals(MAGIC)) throw new Error('not an NPY file (expected the \\x93NUMPY magic)');
  const major = buffer[6];
  if (major !== 1 && major !== 2) throw new Error(`NPY format version ${major} is not read (expected 1 or 2)`);
  const headerLength = major === 1 ? buffer.readUInt16LE(8) : buffer.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buffer.subarray(start, start + headerLength).toString('latin1');
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  if (descr !== '<f4') throw new Error(`NPY dtype ${descr ?? '(none)'}: expected '<f4' (little-endian float32)`);
  if (!/'fortran_order':\s*False/.test(header)) throw new Error('NPY array in Fortran order: expected C order');
  const shape = /'shape':\s*\((\d+),\s*(\d+),?\s*\)/.exec(header);
  if (!shape) throw new Error(`NPY shape in "${header.trim()}": expected (rows, features)`);
  const rows = Number(shape[1]);
  const features = Number(shape[2]);
  const offset = start + headerLength;
  const expected = rows * features * 4;
  if (buffer.length - offset < expected) throw new Error(`NPY data has ${buffer.length - offset} bytes; shape (${rows}, ${features}) needs ${expected}`);
  // A copy: the view need not be 4-byte aligned.
  const data = new Float32Array(rows * features);
  for (let i = 0; i < data.length; i++) data[i] = buffer.readFloatLE(offset + i * 4);
  return { rows, features, data };
}
