import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import { InProcessTransport } from '@mlops/bus';
import { loadRegistryConfig, startRegistry, type RegistryApp } from '@mlops/service-registry';
import { predict, predictMlp, seededRandom, trainLinear, trainMlp, type TabularData } from '@mlops/service-trainer';
import { interopPython } from '../support/python';

const run = promisify(execFile);
const SKLEARN_MODELS = resolve(__dirname, 'models/sklearn_models.py');
const TOLERANCE = 1e-5;

/** A binary problem with a curved boundary: two noisy rings. */
function rings(rows: number): TabularData {
  const random = seededRandom(99);
  const data: TabularData = { features: ['x', 'y'], rows: [], target: [] };
  for (let i = 0; i < rows; i++) {
    const radius = (i % 2 ? 2 : 1) + (random() - 0.5) * 0.5;
    const angle = random() * 2 * Math.PI;
    data.rows.push([radius * Math.cos(angle), radius * Math.sin(angle)]);
    data.target.push(i % 2);
  }
  return data;
}

/** What each model's source (the TS forward pass, or scikit-learn in Python) predicts. */
interface SourcePredictions {
  label: number[];
  probabilities: number[][];
}

const SIGNATURE = {
  inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 2] }],
  outputs: [
    { name: 'label', datatype: 'INT64', shape: [-1] },
    { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
  ],
};

/**
 * The interop check: models from the built-in trainer (softmax regression and the
 * MLP) and from scikit-learn via skl2onnx (a linear pipeline, an MLP and gradient-boosted
 * trees, i.e. the ai.onnx.ml domain) register through the registry's HTTP API with their
 * declared signatures checked, are read back from its content-addressed store, and give
 * in onnxruntime-node what their source gives, within 1e-5.
 */
describe('model interop: built-in and skl2onnx models through the registry into onnxruntime-node', () => {
  const data = rings(300);
  let registry: RegistryApp;
  let dir: string;
  let sklearn: Record<string, SourcePredictions & { opsets: Record<string, number> }>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'model-interop-'));
    writeFileSync(join(dir, 'data.json'), JSON.stringify({ rows: data.rows, target: data.target }));
    const { stdout } = await run(interopPython(), [SKLEARN_MODELS, join(dir, 'data.json'), dir], { timeout: 90_000 });
    sklearn = JSON.parse(stdout);
    registry = await startRegistry(
      loadRegistryConfig({ DATABASE_URL: 'sqlite::memory:', REGISTRY_PORT: '0', REGISTRY_ARTIFACT_ROOT: join(dir, 'registry') }),
      { inProcess: new InProcessTransport(), logger: false },
    );
  }, 120_000);
  afterAll(async () => {
    await registry?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const upload = async (name: string, bytes: Uint8Array, signature: unknown): Promise<{ status: number; body: any }> => {
    const response = await fetch(`${registry.url}/models/${name}/versions?${new URLSearchParams({ signature: JSON.stringify(signature) })}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    return { status: response.status, body: await response.json() };
  };

  /** Registers, reads the artifact back from the store and runs it in onnxruntime-node. */
  async function registerAndRun(name: string, bytes: Uint8Array, signature: unknown): Promise<SourcePredictions> {
    const reply = await upload(name, bytes, signature);
    expect(reply.status).toBe(201);
    const version = reply.body.model_version;
    expect(version.signature.inputs).toEqual(SIGNATURE.inputs);
    const fetched = await fetch(`${registry.url}/api/2.0/mlflow/model-versions/get?name=${name}&version=${version.version}`).then((r) => r.json() as Promise<{ model_version: { artifact_uri: string; artifact_hash: string } }>);
    const stored = readFileSync(fetched.model_version.artifact_uri);
    expect(createHash('sha256').update(stored).digest('hex')).toBe(fetched.model_version.artifact_hash);
    expect(stored.equals(Buffer.from(bytes))).toBe(true);
    const session = await ort.InferenceSession.create(stored);
    try {
      const out = await session.run({ input: new ort.Tensor('float32', Float32Array.from(data.rows.flat()), [data.rows.length, 2]) });
      const probabilities = out.probabilities.data as Float32Array;
      return {
        label: Array.from(out.label.data as BigInt64Array, Number),
        probabilities: data.rows.map((_, r) => [probabilities[2 * r], probabilities[2 * r + 1]]),
      };
    } finally {
      await session.release();
    }
  }

  const expectSame = (actual: SourcePredictions, source: SourcePredictions) => {
    let worst = 0;
    source.probabilities.forEach((row, r) => row.forEach((p, c) => (worst = Math.max(worst, Math.abs(p - actual.probabilities[r][c])))));
    expect(worst).toBeLessThan(TOLERANCE);
    expect(actual.label).toEqual(source.label);
  };
  const accuracyOf = (labels: number[]) => labels.filter((l, i) => l === data.target[i]).length / labels.length;
  const labelOf = (p: number[]) => (p[1] > p[0] ? 1 : 0);

  it('built-in softmax regression and MLP: registered, signature checked, onnxruntime-node = the TS forward pass', async () => {
    const linear = trainLinear(data, { epochs: 100 });
    const mlp = trainMlp(data, { epochs: 60, hiddenLayers: [16, 16], activation: 'tanh' });
    for (const [name, result, source] of [
      ['builtin-linear', linear, predict(linear.params, data.rows)],
      ['builtin-mlp', mlp, predictMlp(mlp.params, data.rows)],
    ] as const) {
      const actual = await registerAndRun(name, result.model, result.signature);
      expectSame(actual, { probabilities: source, label: source.map(labelOf) });
    }
    expect(accuracyOf(predictMlp(mlp.params, data.rows).map(labelOf))).toBeGreaterThan(0.95);
  });

  it('skl2onnx models (linear pipeline, MLP, gradient-boosted trees): registered, onnxruntime-node = scikit-learn', async () => {
    expect(Object.keys(sklearn)).toEqual(['sklearn_logreg', 'sklearn_mlp', 'sklearn_gbt']);
    // The trees are a TreeEnsembleClassifier from the ai.onnx.ml domain.
    expect(sklearn.sklearn_gbt.opsets).toHaveProperty('ai.onnx.ml');
    for (const [name, source] of Object.entries(sklearn)) {
      const actual = await registerAndRun(name.replace('_', '-'), readFileSync(join(dir, `${name}.onnx`)), SIGNATURE);
      expectSame(actual, source);
    }
    expect(accuracyOf(sklearn.sklearn_gbt.label)).toBeGreaterThan(0.95);
  });

  it('a declared signature that does not match the skl2onnx model is refused', async () => {
    const wrong = { ...SIGNATURE, outputs: [{ name: 'label', datatype: 'INT64', shape: [-1] }, { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] }] };
    const reply = await upload('sklearn-wrong', readFileSync(join(dir, 'sklearn_logreg.onnx')), wrong);
    expect(reply).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE' } });
    expect(reply.body.message).toContain("output 'probabilities': declared shape [-1,3], the model has [-1,2]");
  });
});
