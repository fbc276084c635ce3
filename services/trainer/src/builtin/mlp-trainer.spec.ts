import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { interopPython } from '../../../../test/support/python';
import { readModel } from '../onnx/graph';
import { runInSlices } from './cooperative';
import { trainLinear, type TabularData } from './linear-trainer';
import { mlpTraining, predictMlp, trainMlp } from './mlp-trainer';
import { seededRandom } from './random';

const CHECK_SCRIPT = resolve(__dirname, '../../../../test/fixtures/trainer/check_onnx.py');

/** Two noisy concentric rings (labels 0 inner, 1 outer): no straight line separates them. */
function circles(rows: number, seed = 21): TabularData {
  const random = seededRandom(seed);
  const data: TabularData = { features: ['x', 'y'], rows: [], target: [] };
  for (let i = 0; i < rows; i++) {
    const outer = i % 2;
    const radius = (outer ? 2 : 1) + (random() - 0.5) * 0.4;
    const angle = random() * 2 * Math.PI;
    data.rows.push([radius * Math.cos(angle), radius * Math.sin(angle)]);
    data.target.push(outer);
  }
  return data;
}

async function runOnnx(model: Uint8Array, rows: number[][]): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(model);
  try {
    return await session.run({ input: new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, rows[0].length]) });
  } finally {
    await session.release();
  }
}

const maxAbsDiff = (expected: number[][], actual: Float32Array) => {
  const width = expected[0].length;
  return expected.reduce((worst, row, r) => row.reduce((w, v, c) => Math.max(w, Math.abs(v - actual[r * width + c])), worst), 0);
};

describe('built-in MLP trainer (non-linear, -> ONNX MatMul/Add/Relu|Tanh/Softmax)', () => {
  let dir: string;
  beforeAll(() => void (dir = mkdtempSync(join(tmpdir(), 'trainer-mlp-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('learns concentric circles on the holdout where softmax regression cannot', () => {
    const data = circles(600);
    const linear = trainLinear(data, { epochs: 200 });
    const mlp = trainMlp(data, { epochs: 60 });
    expect(mlp.metrics).toMatchObject({ test_rows: 120, train_rows: 480, epochs: 60 });
    expect(linear.metrics.test_rows).toBe(120);
    expect(linear.metrics.accuracy).toBeLessThan(0.7);
    expect(mlp.metrics.accuracy).toBeGreaterThan(0.95);
    expect(mlp.metrics.accuracy - linear.metrics.accuracy).toBeGreaterThan(0.3);
    expect(mlp.history).toHaveLength(60);
    expect(mlp.history[59].loss).toBeLessThan(mlp.history[0].loss);
    expect(mlp.history[59].val_accuracy).toBeCloseTo(mlp.metrics.accuracy, 6);
    expect(mlp.hyperparams).toMatchObject({ hiddenLayers: [32], activation: 'relu', optimizer: 'adam', batchSize: 32, task: 'classification' });
  });

  it('writes a graph onnxruntime-node runs, equal to the TS forward pass within 1e-5 (two ReLU layers and one tanh layer)', async () => {
    const data = circles(300);
    for (const overrides of [{ hiddenLayers: [16, 8], activation: 'relu' as const }, { hiddenLayers: [12], activation: 'tanh' as const, optimizer: 'sgd' as const, learningRate: 0.2 }]) {
      const result = trainMlp(data, { epochs: 30, ...overrides });
      const summary = readModel(result.model);
      expect(summary.opsets).toEqual([{ domain: '', version: 13 }]);
      const act = overrides.activation === 'relu' ? 'Relu' : 'Tanh';
      const hidden = overrides.hiddenLayers.flatMap(() => ['MatMul', 'Add', act]);
      expect(summary.ops).toEqual(['Sub', 'Div', ...hidden, 'MatMul', 'Add', 'Softmax', 'ArgMax', 'Gather']);
      expect(summary.metadata).toMatchObject({ algorithm: 'mlp', activation: overrides.activation, hidden_layers: JSON.stringify(overrides.hiddenLayers), feature_names: JSON.stringify(data.features) });
      expect(result.signature).toEqual({
        inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 2] }],
        outputs: [
          { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
          { name: 'label', datatype: 'INT64', shape: [-1] },
        ],
      });
      const out = await runOnnx(result.model, data.rows);
      const expected = predictMlp(result.params, data.rows);
      expect(out.probabilities.dims).toEqual([300, 2]);
      expect(maxAbsDiff(expected, out.probabilities.data as Float32Array)).toBeLessThan(1e-5);
      expect(Array.from(out.label.data as BigInt64Array, Number)).toEqual(expected.map((p) => (p[1] > p[0] ? 1 : 0)));
    }
  });

  it('is deterministic: the same seed gives byte-identical models; another seed another model', async () => {
    const data = circles(200);
    const a = trainMlp(data, { epochs: 20, seed: 5 });
    const b = trainMlp(data, { epochs: 20, seed: 5 });
    // Trained in slices (as the service does) it is still the same model.
    const sliced = await runInSlices(mlpTraining(data, { epochs: 20, seed: 5 }), 1);
    const c = trainMlp(data, { epochs: 20, seed: 6 });
    expect(Buffer.from(a.model).equals(Buffer.from(b.model))).toBe(true);
    expect(Buffer.from(a.model).equals(Buffer.from(sliced.model))).toBe(true);
    expect(a.history).toEqual(b.history);
    expect(Buffer.from(a.model).equals(Buffer.from(c.model))).toBe(false);
  });

  it('fits a non-linear regression (linear output); the ONNX predictions match the TS forward pass', async () => {
    const random = seededRandom(9);
    const rows = Array.from({ length: 400 }, () => [random() * 6 - 3, random() * 2]);
    const data: TabularData = { features: ['a', 'b'], rows, target: rows.map(([a, b]) => 10 * Math.sin(a) + b + 0.5 + (random() - 0.5) * 0.05) };
    const mlp = trainMlp(data, { epochs: 150, hiddenLayers: [32, 16], activation: 'tanh' });
    const linear = trainLinear(data, { epochs: 300, learningRate: 0.3 });
    expect(mlp.params.task).toBe('regression');
    expect(mlp.signature.outputs).toEqual([{ name: 'predictions', datatype: 'FP32', shape: [-1, 1] }]);
    expect(mlp.metrics.r2).toBeGreaterThan(0.95);
    expect(mlp.metrics.rmse).toBeLessThan(linear.metrics.rmse / 3);
    const out = (await runOnnx(mlp.model, rows)).predictions.data as Float32Array;
    const expected = predictMlp(mlp.params, rows);
    // float32 sums of magnitude ~10: compare relative to the value.
    expected.forEach((p, r) => expect(Math.abs(p[0] - out[r])).toBeLessThan(1e-5 * Math.max(1, Math.abs(p[0]))));
  });

  it('names the bad hyperparameter', () => {
    const data = circles(20);
    expect(() => trainMlp(data, { hiddenLayers: [4, 4, 4] })).toThrow(/hiddenLayers must be one or two layer sizes/);
    expect(() => trainMlp(data, { hiddenLayers: [0] })).toThrow(/hiddenLayers/);
    expect(() => trainMlp(data, { activation: 'sigmoid' as never })).toThrow(/activation must be 'relu' or 'tanh'/);
    expect(() => trainMlp(data, { batchSize: 0 })).toThrow(/batchSize/);
  });

  it('loads in Python: onnx.checker.check_model(full_check) passes and onnxruntime gives the same probabilities', () => {
    const data = circles(90);
    const result = trainMlp(data, { epochs: 20, hiddenLayers: [8, 8] });
    const modelPath = join(dir, 'mlp.onnx');
    const rowsPath = join(dir, 'rows.json');
    writeFileSync(modelPath, result.model);
    writeFileSync(rowsPath, JSON.stringify(data.rows));
    const reply = JSON.parse(execFileSync(interopPython(), [CHECK_SCRIPT, modelPath, rowsPath], { encoding: 'utf8' })) as {
      checked: boolean;
      opsets: Record<string, number>;
      outputs: { probabilities: number[][]; label: number[] };
    };
    expect(reply.checked).toBe(true);
    expect(reply.opsets).toEqual({ 'ai.onnx': 13 });
    const expected = predictMlp(result.params, data.rows);
    expect(maxAbsDiff(expected, Float32Array.from(reply.outputs.probabilities.flat()))).toBeLessThan(1e-5);
    expect(reply.outputs.label).toEqual(expected.map((p) => (p[1] > p[0] ? 1 : 0)));
  }, 60_000);
});
