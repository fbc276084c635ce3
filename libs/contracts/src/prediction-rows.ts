import type { PredictionTensors, DecodedTensor } from './prediction-tensors';

export type RowValue = number | string | boolean;
/** A row's outputs as v1 logged them: one value per row, or an array of numbers. */
export type RowOutputs = Record<string, number | number[] | string>;

/** An IEEE 754 half-precision value from its 16 bits (FP16 data is kept as those bits). */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Element i of a tensor as a JS value: 64-bit integers as numbers, FP16 decoded, BOOL as a boolean. */
function element(tensor: DecodedTensor, i: number): RowValue {
  const v = tensor.data[i];
  if (typeof v === 'number') {
    if (tensor.datatype === 'BOOL') return v !== 0;
    return tensor.datatype === 'FP16' ? halfToNumber(v) : v;
  }
  return typeof v === 'bigint' ? Number(v) : v;
}

/** Feature keys by tensor name and row size (the same few models log event after event). */
const keyCache = new Map<string, string[]>();

/**
 * The feature keys of a tensor: the feature names it carries, else as v1 rows had them
 * (`<tensor>` for one element per row, else `<tensor>[i]`).
 */
function keysOf(tensor: DecodedTensor): string[] {
  if (tensor.featureNames) return tensor.featureNames;
  const id = `${tensor.rowSize}\u0000${tensor.name}`;
  let keys = keyCache.get(id);
  if (!keys) {
    keys = tensor.rowSize === 1 ? [tensor.name] : Array.from({ length: tensor.rowSize }, (_, i) => `${tensor.name}[${i}]`);
    if (keyCache.size < 10_000) keyCache.set(id, keys);
  }
  return keys;
}

/**
 * The sampled rows of a decoded prediction.logged v2 as rows, read straight from the typed
 * arrays: value(k, f) is feature f of the k-th sampled row; nothing is built per row except
 * what a caller asks for (fillInputs writes into the caller's object).
 */
export class PredictionRows {
  /** The input feature keys, in tensor order: the tensors' feature names, or the keys v1 events had. */
  readonly features: string[];
  private readonly featureTensor: DecodedTensor[] = [];
  private readonly featureOffset: number[] = [];

  constructor(readonly tensors: PredictionTensors) {
    this.features = [];
    for (const tensor of tensors.inputs) {
      keysOf(tensor).forEach((key, i) => {
        this.features.push(key);
        this.featureTensor.push(tensor);
        this.featureOffset.push(i);
      });
    }
  }

  /** Sampled rows. */
  get length(): number {
    return this.tensors.rows.length;
  }

  predictionId(k: number): string {
    return this.tensors.predictionIds[k];
  }

  /** Feature f (an index into `features`) of the k-th sampled row. */
  value(k: number, f: number): RowValue {
    const tensor = this.featureTensor[f];
    return element(tensor, this.tensors.rows[k] * tensor.rowSize + this.featureOffset[f]);
  }

  /** Writes the k-th sampled row's inputs into `target` (keyed by `features`) and returns it. */
  fillInputs(k: number, target: Record<string, RowValue | null> = {}): Record<string, RowValue | null> {
    const row = this.tensors.rows[k];
    const features = this.features;
    for (let f = 0; f < features.length; f++) {
      const tensor = this.featureTensor[f];
      target[features[f]] = element(tensor, row * tensor.rowSize + this.featureOffset[f]);
    }
    return target;
  }

  /** The k-th sampled row's outputs as v1 logged them (BOOL as 0/1; in arrays, strings as numbers). */
  outputs(k: number): RowOutputs {
    const row = this.tensors.rows[k];
    const out: RowOutputs = {};
    for (const tensor of this.tensors.outputs) {
      const at = row * tensor.rowSize;
      if (tensor.rowSize === 1) {
        const v = element(tensor, at);
        out[tensor.name] = typeof v === 'boolean' ? Number(v) : v;
        continue;
      }
      const values = new Array<number>(tensor.rowSize);
      for (let i = 0; i < tensor.rowSize; i++) values[i] = Number(element(tensor, at + i));
      out[tensor.name] = values;
    }
    return out;
  }
}
