import * as ort from 'onnxruntime-node';
import { InvalidInputError } from '@mlops/errors';

export interface TensorSpec {
  name: string;
  /** KServe v2 datatype, e.g. FP32, INT64 */
  datatype: string;
  /** -1 for a dynamic dimension */
  shape: number[];
}

export interface Signature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

const ORT_TO_V2: Record<string, string> = {
  bool: 'BOOL',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  float16: 'FP16',
  float32: 'FP32',
  float64: 'FP64',
  string: 'BYTES',
};

/** A declared datatype in either spelling (`FP32` or `float32`, any case) as the v2 name. */
export function normaliseDatatype(datatype: string): string {
  const lower = datatype.toLowerCase();
  return ORT_TO_V2[lower] ?? (lower === 'float' ? 'FP32' : lower === 'double' ? 'FP64' : datatype.toUpperCase());
}

function specs(list: readonly ort.InferenceSession.ValueMetadata[], kind: string): TensorSpec[] {
  return list.map((m) => {
    if (!m.isTensor) throw new InvalidInputError(`${kind} '${m.name}' is not a tensor; only tensor inputs/outputs are supported`);
    // ort reports a symbolic or unknown dimension as a string (its name, or '').
    return { name: m.name, datatype: ORT_TO_V2[m.type] ?? m.type.toUpperCase(), shape: m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) };
  });
}

/** Loads ONNX bytes with onnxruntime; a file it cannot load is not a valid model (400). */
export async function openModel(bytes: Uint8Array): Promise<{ session: ort.InferenceSession; signature: Signature }> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes);
  } catch (error) {
    throw new InvalidInputError(`not a valid ONNX model: onnxruntime cannot load it (${(error as Error).message.split('\n')[0]})`);
  }
  try {
    return { session, signature: { inputs: specs(session.inputMetadata, 'input'), outputs: specs(session.outputMetadata, 'output') } };
  } catch (error) {
    await session.release().catch(() => undefined);
    throw error;
  }
}

/** Reads a declared signature ({inputs, outputs: [{name, datatype, shape}]}) from untrusted JSON. */
export function parseSignature(value: unknown, where = 'signature'): Signature {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new InvalidInputError(`${where} is not valid JSON`);
    }
  }
  const object = parsed as Record<string, unknown> | null;
  if (!object || typeof object !== 'object' || !Array.isArray(object.inputs) || !Array.isArray(object.outputs)) {
    throw new InvalidInputError(`${where} must be an object {inputs: [...], outputs: [...]}`);
  }
  const list = (items: unknown[], kind: string): TensorSpec[] =>
    items.map((item, i) => {
      const t = item as Record<string, unknown> | null;
      if (!t || typeof t.name !== 'string' || !t.name) throw new InvalidInputError(`${where}.${kind}[${i}].name must be a non-empty string`);
      if (typeof t.datatype !== 'string' || !t.datatype) throw new InvalidInputError(`${where}.${kind}[${i}].datatype must be a string such as FP32`);
      if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isInteger(d))) {
        throw new InvalidInputError(`${where}.${kind}[${i}].shape must be a list of integers (-1 for a dynamic dimension)`);
      }
      return { name: t.name, datatype: normaliseDatatype(t.datatype), shape: t.shape as number[] };
    });
  return { inputs: list(object.inputs, 'inputs'), outputs: list(object.outputs, 'outputs') };
}

const dims = (shape: number[]) => `[${shape.join(',')}]`;

/** Every way the model's actual signature differs from the declared one; empty when they match. */
export function signatureDifferences(declared: Signature, actual: Signature): string[] {
  const problems: string[] = [];
  for (const kind of ['inputs', 'outputs'] as const) {
    const one = kind.slice(0, -1);
    const byName = new Map(actual[kind].map((t) => [t.name, t]));
    for (const want of declared[kind]) {
      const got = byName.get(want.name);
      if (!got) {
        problems.push(`declared ${one} '${want.name}' is not an ${one} of the model (model ${kind}: ${actual[kind].map((t) => t.name).join(', ') || 'none'})`);
        continue;
      }
      if (normaliseDatatype(want.datatype) !== got.datatype) {
        problems.push(`${one} '${want.name}': declared datatype ${normaliseDatatype(want.datatype)}, the model has ${got.datatype}`);
      }
      if (dims(want.shape) !== dims(got.shape)) problems.push(`${one} '${want.name}': declared shape ${dims(want.shape)}, the model has ${dims(got.shape)}`);
    }
    const declaredNames = new Set(declared[kind].map((t) => t.name));
    for (const t of actual[kind]) if (!declaredNames.has(t.name)) problems.push(`the model has ${one} '${t.name}', which the declared signature does not list`);
  }
  return problems;
}

export interface Holdout {
  inputs: number[][];
  labels: number[];
}

/**
 * Accuracy of a classifier on a holdout: the rows go to the model's only input as FP32
 * [n, features]; the predicted class is an INT64 output (`label` by preference) or the
 * argmax of a 2-D float output (probabilities).
 */
export async function holdoutAccuracy(session: ort.InferenceSession, holdout: Holdout): Promise<number> {
  if (session.inputNames.length !== 1) throw new Error(`holdout scoring needs a model with one input; it has ${session.inputNames.join(', ')}`);
  const rows = holdout.inputs.length;
  const width = holdout.inputs[0]?.length ?? 0;
  if (rows === 0 || rows !== holdout.labels.length) throw new Error(`holdout has ${rows} input rows and ${holdout.labels.length} labels`);
  const input = new ort.Tensor('float32', Float32Array.from(holdout.inputs.flat()), [rows, width]);
  const results = await session.run({ [session.inputNames[0]]: input });
  const names = session.outputNames;
  const labelName = names.includes('label') ? 'label' : names.find((n) => results[n].type === 'int64' || results[n].type === 'int32');
  let predicted: number[];
  if (labelName) {
    predicted = Array.from(results[labelName].data as ArrayLike<number | bigint>, Number);
  } else {
    const scores = results[names[0]];
    const classes = scores.dims.length === 2 ? scores.dims[1] : 1;
    const data = scores.data as Float32Array;
    predicted = Array.from({ length: rows }, (_, r) => {
      if (classes === 1) return data[r] >= 0.5 ? 1 : 0;
      let best = 0;
      for (let c = 1; c < classes; c++) if (data[r * classes + c] > data[r * classes + best]) best = c;
      return best;
    });
  }
  let correct = 0;
  for (let i = 0; i < rows; i++) if (predicted[i] === Number(holdout.labels[i])) correct++;
  return correct / rows;
}
