/**
 * Decimal text for float32 values, written as bytes. A float32 read into a JS number is a
 * double, and String() of that double takes 17-19 characters (0.1f is "0.10000000149011612")
 * and, for V8, 250-400 ns. A float32 needs at most 9 significant digits to be told apart from
 * its neighbours, so this writes the shortest of 7, 8 or 9 digits (6 or fewer when they do)
 * that reads back as the same float32, as ASCII straight into a byte buffer: about 100 ns.
 */

const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));
/** The range written with digits here; anything else goes through String(). */
const MIN = 1e-7;
const MAX = 1e9;

const scaled = (n: number, k: number) => (k >= 0 ? n * POW10[k] : n / POW10[-k]);
/** m·10^-k as the nearest double, which is what parsing that decimal gives (m < 2^53, |k| <= 22). */
const unscaled = (m: number, k: number) => (k >= 0 ? m / POW10[k] : m * POW10[-k]);

// The decimal found, as m·10^-k. Module state rather than a returned pair: this runs for every
// logged feature value, and a pair per value is garbage the collector then has to sweep.
let foundM = 0;
let foundK = 0;

/** Rounds to `digits` significant digits into foundM/foundK; true when that reads back as n. */
function roundTrip(n: number, exponent: number, digits: number): boolean {
  let k = digits - 1 - exponent;
  let m = Math.round(scaled(n, k));
  // The exponent from the power table can be one too small right at a power of ten.
  if (m >= POW10[digits]) m = Math.round(scaled(n, --k));
  if (Math.fround(unscaled(m, k)) !== n) return false;
  foundM = m;
  foundK = k;
  return true;
}

function stripZeros(): void {
  while (foundK > 0 && foundM % 10 === 0) {
    foundM = (foundM / 10) | 0;
    foundK--;
  }
}

/** The shortest decimal of n (1e-7 <= n < 1e9) into foundM/foundK; false when none of 9 digits reads back. */
function shortest(n: number): boolean {
  let exponent = 0;
  if (n >= 1) while (exponent < 8 && n >= POW10[exponent + 1]) exponent++;
  else {
    exponent = -1;
    while (exponent > -7 && n * POW10[-exponent] < 1) exponent--;
  }
  if (roundTrip(n, exponent, 7)) {
    stripZeros();
    // Seven digits can round to a neighbour of a six-digit value that also reads back.
    if (foundM >= 1_000_000) roundTrip(n, exponent, 6);
  } else if (!roundTrip(n, exponent, 8) && !roundTrip(n, exponent, 9)) return false;
  stripZeros();
  return true;
}

const digits = new Uint8Array(16);

/**
 * Writes finite `n`, a float32 value, as a JSON number at `out[at]` and returns the position
 * after it. Math.fround(JSON.parse(text)) === n. The caller leaves room for 32 bytes.
 */
export function writeFloat32(out: Uint8Array, at: number, n: number): number {
  if (n === 0) {
    out[at] = 48;
    return at + 1;
  }
  const negative = n < 0;
  const magnitude = negative ? -n : n;
  if (magnitude < MIN || magnitude >= MAX || !shortest(magnitude)) return writeAscii(out, at, String(n));
  if (negative) out[at++] = 45;
  let m = foundM;
  let k = foundK;
  let length = 0;
  do {
    const q = (m / 10) | 0;
    digits[length++] = 48 + m - q * 10;
    m = q;
  } while (m > 0);
  if (k <= 0) {
    while (length > 0) out[at++] = digits[--length];
    for (; k < 0; k++) out[at++] = 48;
    return at;
  }
  if (k >= length) {
    out[at++] = 48;
    out[at++] = 46;
    for (let zeros = k - length; zeros > 0; zeros--) out[at++] = 48;
    while (length > 0) out[at++] = digits[--length];
    return at;
  }
  while (length > 0) {
    out[at++] = digits[--length];
    if (length === k) out[at++] = 46;
  }
  return at;
}

/** Writes an ASCII string's characters as bytes; returns the position after them. */
export function writeAscii(out: Uint8Array, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) out[at++] = text.charCodeAt(i);
  return at;
}

/** The text writeFloat32 writes, as a string (for the reference path and tests). */
export function float32Decimal(n: number): string {
  const out = new Uint8Array(32);
  return Buffer.from(out.buffer, 0, writeFloat32(out, 0, n)).toString('latin1');
}
