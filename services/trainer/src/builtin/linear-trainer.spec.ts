import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { interopPython } from '../../../../test/support/python';
import { readModel } from '../onnx/graph';
import { predict, trainLinear, type TabularData } from './linear-trainer';
import { seededRandom } from './random';

const CHECK_SCRIPT = resolve(__dirname, '../../../../test/fixtures/trainer/check_onnx.py');

/** Three Gaussian blobs in 3-D (one useless feature) with class labels 3, 5, 7. */
function blobs(rows: number, seed = 7): TabularData {
  const random = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const centres = [[0, 0], [6, 1], [2, 7]];
  const labels = [3, 5, 7];
  const data: TabularData = { features: ['x1', 'x2', 'noise'], rows: [], target: [] };
  for (let i = 0; i < rows; i++) {
    const c = i % 3;
    data.rows.push([centres[c][0] * 10 + normal() * 10, centres[c][1] + normal(), 100 + normal() * 50]);
    data.target.push(labels[c]);
  }
  return data;
}

async function runOnnx(model: Uint8Array, rows: number[][]): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(model);
  try {
    const n = rows[0].length;
    return await session.run({ input: new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, n]) });
  } finally {
    await session.release();
  }
}

describe('built-in linear trainer (softmax/logistic and linear regression -> ONNX)', () => {
  let dir: string;
  beforeAll(() => void (dir = mkdtempSync(join(tmpdir(), 'trainer-onnx-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('trains softmax regression that separates blobs, with held-out metrics and per-epoch history', () => {
    const result = trainLinear(blobs(300), { epochs: 150 });
    expect(result.params.task).toBe('classification');
    expect(result.params.classes).toEqual([3, 5, 7]);
    expect(result.metrics.accuracy).toBeGreaterThan(0.95);
    expect(result.metrics.log_loss).toBeLessThan(0.3);
    expect(result.metrics).toMatchObject({ test_rows: 60, train_rows: 240, epochs: 150 });
    expect(result.history).toHaveLength(150);
    expect(result.history[149].loss).toBeLessThan(result.history[0].loss);
    expect(result.history[149].val_accuracy).toBeCloseTo(result.metrics.accuracy, 6);
    expect(result.signature).toEqual({
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 3] }],
      outputs: [
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
        { name: 'label', datatype: 'INT64', shape: [-1] },
      ],
    });
  });

  it('writes a graph onnxruntime-node runs, equal to the TS forward pass within 1e-5, labels via ArgMax+Gather', async () => {
    const data = blobs(300);
    const result = trainLinear(data, { epochs: 100 });
    const summary = readModel(result.model);
    expect(summary.opsets).toEqual([{ domain: '', version: 13 }]);
    expect(summary.ops).toEqual(['Sub', 'Div', 'MatMul', 'Add', 'Softmax', 'ArgMax', 'Gather']);
    const out = await runOnnx(result.model, data.rows);
    const expected = predict(result.params, data.rows);
    const probabilities = out.probabilities.data as Float32Array;
    expect(out.probabilities.dims).toEqual([300, 3]);
    let maxDiff = 0;
    expected.forEach((row, r) => row.forEach((p, c) => (maxDiff = Math.max(maxDiff, Math.abs(p - probabilities[r * 3 + c])))));
    expect(maxDiff).toBeLessThan(1e-5);
    const labels = Array.from(out.label.data as BigInt64Array, Number);
    expect(labels).toEqual(expected.map((p) => [3, 5, 7][p.indexOf(Math.max(...p))]));
  });

  it('is deterministic: the same seed gives byte-identical models; another seed another split', () => {
    const data = blobs(200);
    const a = trainLinear(data, { epochs: 50, seed: 11 });
    const b = trainLinear(data, { epochs: 50, seed: 11 });
    const c = trainLinear(data, { epochs: 50, seed: 12 });
    expect(Buffer.from(a.model).equals(Buffer.from(b.model))).toBe(true);
    expect(a.history).toEqual(b.history);
    expect(Buffer.from(a.model).equals(Buffer.from(c.model))).toBe(false);
  });

  it('trains linear regression with rmse on the held-out split; the ONNX output matches', async () => {
    const random = seededRandom(3);
    const rows = Array.from({ length: 200 }, () => [random() * 10, random() * 100]);
    const data: TabularData = { features: ['a', 'b'], rows, target: rows.map(([a, b]) => 3 * a - 0.5 * b + 7 + (random() - 0.5) * 0.1) };
    const result = trainLinear(data, { epochs: 300, learningRate: 0.3 });
    expect(result.params.task).toBe('regression');
    expect(result.metrics.rmse).toBeLessThan(0.1);
    expect(result.metrics.r2).toBeGreaterThan(0.999);
    expect(result.signature.outputs).toEqual([{ name: 'predictions', datatype: 'FP32', shape: [-1, 1] }]);
    const out = (await runOnnx(result.model, rows)).predictions.data as Float32Array;
    const expected = predict(result.params, rows);
    expected.forEach((p, r) => expect(Math.abs(p[0] - out[r])).toBeLessThan(1e-4));
  });

  it('loads in Python: onnx.checker.check_model(full_check) passes, both read the feature names, and onnxruntime gives the same probabilities', () => {
    const data = blobs(90);
    const result = trainLinear(data, { epochs: 80 });
    const modelPath = join(dir, 'model.onnx');
    const rowsPath = join(dir, 'rows.json');
    writeFileSync(modelPath, result.model);
    writeFileSync(rowsPath, JSON.stringify(data.rows));
    const reply = JSON.parse(execFileSync(interopPython(), [CHECK_SCRIPT, modelPath, rowsPath], { encoding: 'utf8' })) as {
      checked: boolean;
      opsets: Record<string, number>;
      metadata: Record<string, string>;
      ort_metadata: Record<string, string>;
      outputs: { probabilities: number[][]; label: number[] };
    };
    expect(reply.checked).toBe(true);
    expect(reply.opsets).toEqual({ 'ai.onnx': 13 });
    // The input's columns, in order, as onnx and onnxruntime read them (serving keys predictions by them).
    expect(JSON.parse(reply.metadata.feature_names)).toEqual(['x1', 'x2', 'noise']);
    expect(reply.ort_metadata.feature_names).toBe(reply.metadata.feature_names);
    const expected = predict(result.params, data.rows);
    expected.forEach((row, r) => row.forEach((p, c) => expect(Math.abs(p - reply.outputs.probabilities[r][c])).toBeLessThan(1e-5)));
    expect(reply.outputs.label).toEqual(expected.map((p) => [3, 5, 7][p.indexOf(Math.max(...p))]));
  }, 60_000);
});
