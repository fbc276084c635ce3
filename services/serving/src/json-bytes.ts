import { writeAscii, writeFloat32 } from './float32-decimal';

/** Copies bytes[from..] to out[at..]; returns the position after them. */
function copyBytes(out: Uint8Array, at: number, bytes: Uint8Array, from: number): number {
  // Keys are a few bytes: a loop beats a native copy call at that size.
  for (let i = from; i < bytes.length; i++) out[at++] = bytes[i];
  return at;
}

/**
 * JSON text built straight into bytes, for messages whose bulk is numbers: keys are copied
 * from pre-encoded bytes and float32 values written by writeFloat32, so no intermediate
 * string is built. The caller writes well-formed JSON; nothing here escapes or checks.
 */
export class JsonBytes {
  private buffer: Buffer;
  private at = 0;

  constructor(initialBytes = 16 * 1024) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  private room(bytes: number): void {
    if (this.at + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.at + bytes));
    this.buffer.copy(grown, 0, 0, this.at);
    this.buffer = grown;
  }

  /** Text known to be ASCII (digits, ids, punctuation). */
  ascii(text: string): this {
    this.room(text.length);
    this.at = writeAscii(this.buffer, this.at, text);
    return this;
  }

  /** Any text (already JSON-escaped where it is a string literal), as UTF-8. */
  text(text: string): this {
    this.room(text.length * 3);
    this.at += this.buffer.write(text, this.at, 'utf8');
    return this;
  }

  /** Pre-encoded bytes, e.g. a cached key. */
  bytes(bytes: Uint8Array): this {
    this.room(bytes.length);
    this.at = copyBytes(this.buffer, this.at, bytes, 0);
    return this;
  }

  /** A finite float32 value, shortest decimal that reads back as the same float32. */
  float32(n: number): this {
    this.room(32);
    this.at = writeFloat32(this.buffer, this.at, n);
    return this;
  }

  /**
   * `<key i><value i>` for `count` float32 values from data[from] on: the bulk of a prediction
   * row in one loop. With `skipFirstComma` the first key's leading byte (its comma) is left
   * out. False when a value is NaN or ±Infinity (what was written so far stays).
   */
  keyedFloat32s(keys: Uint8Array[], data: Float32Array, from: number, count: number, skipFirstComma: boolean): boolean {
    let keyBytes = 0;
    for (let i = 0; i < count; i++) keyBytes += keys[i].length;
    this.room(keyBytes + 32 * count);
    const out = this.buffer;
    let at = this.at;
    for (let i = 0; i < count; i++) {
      at = copyBytes(out, at, keys[i], i === 0 && skipFirstComma ? 1 : 0);
      const n = data[from + i];
      // NaN and ±Infinity are the numbers for which n - n is not 0.
      if (n - n !== 0) {
        this.at = at;
        return false;
      }
      at = writeFloat32(out, at, n);
    }
    this.at = at;
    return true;
  }

  /** Drops what was written since the last take(). */
  discard(): void {
    this.at = 0;
  }

  /** What was written since the last take(), as its own Buffer; the writer starts over. */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.at);
    this.buffer.copy(out, 0, 0, this.at);
    this.at = 0;
    return out;
  }
}
