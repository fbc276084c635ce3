import { writeFileSync } from 'node:fs';
import { Float64, Table, TimestampMillisecond, Utf8, tableToIPC, vectorFromArray, type Vector } from 'apache-arrow';
import * as ort from 'onnxruntime-node';
import { seededRandom } from '../builtin/random';

export interface SyntheticDataset {
  path: string;
  rows: { x1: number; x2: number; label: number }[];
}

/**
 * A feature-store shaped Arrow dataset (entity key, event_timestamp, numeric features, a
 * 0/1 `label`) where label = [x1 + 2*x2 > 1], i.e. linearly separable with a margin.
 */
export function writeSeparableDataset(path: string, rows = 400, seed = 5): SyntheticDataset {
  const random = seededRandom(seed);
  const out: SyntheticDataset['rows'] = [];
  while (out.length < rows) {
    const x1 = random() * 4 - 2;
    const x2 = random() * 4 - 2;
    const s = x1 + 2 * x2 - 1;
    if (Math.abs(s) < 0.2) continue;
    out.push({ x1, x2, label: s > 0 ? 1 : 0 });
  }
  const table = new Table({
    customer_id: vectorFromArray(out.map((_, i) => `c${i}`), new Utf8()) as Vector,
    event_timestamp: vectorFromArray(out.map((_, i) => 1_700_000_000_000 + i * 1000), new TimestampMillisecond()) as Vector,
    x1: vectorFromArray(out.map((r) => r.x1), new Float64()) as Vector,
    x2: vectorFromArray(out.map((r) => r.x2), new Float64()) as Vector,
    label: vectorFromArray(out.map((r) => r.label), new Float64()) as Vector,
  });
  writeFileSync(path, tableToIPC(table, 'file'));
  return { path, rows: out };
}

export const SCHEMA = [
  { name: 'customer_id', type: 'string' as const },
  { name: 'event_timestamp', type: 'timestamp' as const },
  { name: 'x1', type: 'number' as const },
  { name: 'x2', type: 'number' as const },
  { name: 'label', type: 'number' as const },
];

/** Accuracy of an ONNX classifier on rows, through onnxruntime-node. */
export async function onnxAccuracy(modelPath: string, rows: SyntheticDataset['rows']): Promise<number> {
  const session = await ort.InferenceSession.create(modelPath);
  try {
    const input = new ort.Tensor('float32', Float32Array.from(rows.flatMap((r) => [r.x1, r.x2])), [rows.length, 2]);
    const out = await session.run({ input });
    const labels = Array.from(out.label.data as BigInt64Array, Number);
    return labels.filter((l, i) => l === rows[i].label).length / rows.length;
  } finally {
    await session.release();
  }
}
