import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Float64, Table, Utf8, tableToIPC, vectorFromArray, type Vector } from 'apache-arrow';
import { trainLinear } from '../builtin/linear-trainer';
import { holdoutSplit, seededRandom } from '../builtin/random';
import { loadDataset } from './dataset';
import { decodeHoldoutNpy } from '@mlops/contracts';
import { evaluateOnHoldout, holdoutNpy, holdoutRowIndices, sliceKey } from './holdout-evaluation';

/** label = [x1 + 2*x2 > 1], except in region "south", where a third of the labels are flipped. */
function writeRegions(path: string, rows = 600): void {
  const random = seededRandom(11);
  const out = Array.from({ length: rows }, (_, i) => {
    const x1 = random() * 4 - 2;
    const x2 = random() * 4 - 2;
    const region = ['north', 'south', 'east/west'][i % 3];
    const clean = x1 + 2 * x2 > 1 ? 1 : 0;
    return { x1, x2, region, label: region === 'south' && random() < 0.33 ? 1 - clean : clean };
  });
  const table = new Table({
    x1: vectorFromArray(out.map((r) => r.x1), new Float64()) as Vector,
    x2: vectorFromArray(out.map((r) => r.x2), new Float64()) as Vector,
    region: vectorFromArray(out.map((r) => r.region), new Utf8()) as Vector,
    label: vectorFromArray(out.map((r) => r.label), new Float64()) as Vector,
  });
  writeFileSync(path, tableToIPC(table, 'file'));
}

describe('holdout evaluation of a trained model (onnxruntime-node, the holdout split)', () => {
  let dir: string;
  let path: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'trainer-holdout-'));
    path = join(dir, 'regions.arrow');
    writeRegions(path);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the slice column per kept row; an unknown one is refused naming it', () => {
    const dataset = loadDataset(path, 'label', { sliceColumn: 'region' });
    expect(dataset.data.features).toEqual(['x1', 'x2']);
    expect(dataset.sliceValues!.slice(0, 4)).toEqual(['north', 'south', 'east/west', 'north']);
    expect(dataset.sliceValues).toHaveLength(dataset.data.rows.length);
    expect(() => loadDataset(path, 'label', { sliceColumn: 'country' })).toThrow("params.slice_column 'country' is not in the dataset (columns: x1, x2, region, label)");
  });

  it('measures p99 per-request latency and the accuracy per slice on the same holdout the trainer scored', async () => {
    const dataset = loadDataset(path, 'label', { sliceColumn: 'region' });
    const trained = trainLinear(dataset.data, { epochs: 200 });
    const metrics = await evaluateOnHoldout({
      model: trained.model,
      data: dataset.data,
      split: { testFraction: 0.2, seed: 42 },
      slices: { column: 'region', values: dataset.sliceValues! },
    });
    expect(metrics.inference_p99_ms).toBeGreaterThan(0);
    const slices = Object.keys(metrics).filter((k) => k.startsWith('accuracy/region/')).sort();
    // '/' is not allowed in a tracking metric key: the value is made safe.
    expect(slices).toEqual(['accuracy/region/east_west', 'accuracy/region/north', 'accuracy/region/south']);
    expect(metrics['accuracy/region/south']).toBeLessThan(metrics['accuracy/region/north'] - 0.1);
    // The slices partition the holdout: their row-weighted mean is the trainer's own held-out accuracy.
    const rows = (value: string) => {
      let n = 0;
      const split = dataset.sliceValues!.map(String);
      for (const i of holdoutSplit(dataset.data.rows.length, 0.2, 42).test) if (sliceKey(split[i]) === value) n++;
      return n;
    };
    const weighted = slices.reduce((sum, key) => sum + metrics[key] * rows(key.split('/')[2]), 0) / trained.metrics.test_rows;
    expect(weighted).toBeCloseTo(trained.metrics.accuracy, 10);
  });

  it('regression reports rmse and mae per slice', async () => {
    const data = { features: ['x'], rows: Array.from({ length: 50 }, (_, i) => [i]), target: Array.from({ length: 50 }, (_, i) => 3 * i + 0.5) };
    const trained = trainLinear(data, { task: 'regression', epochs: 300 });
    const metrics = await evaluateOnHoldout({ model: trained.model, data, split: { testFraction: 0.2, seed: 42 }, task: 'regression', slices: { column: 'half', values: data.rows.map(([x]) => (x < 25 ? 'low' : 'high')) } });
    expect(Object.keys(metrics).sort()).toEqual(['inference_p99_ms', 'mae/half/high', 'mae/half/low', 'rmse/half/high', 'rmse/half/low']);
    expect(metrics['rmse/half/low']).toBeGreaterThanOrEqual(metrics['mae/half/low']);
  });

  it('refuses a slice column with more values than slices are reported (a key column)', async () => {
    const data = { features: ['x'], rows: Array.from({ length: 1000 }, (_, i) => [i]), target: Array.from({ length: 1000 }, (_, i) => i % 2) };
    const trained = trainLinear(data, { epochs: 5 });
    await expect(evaluateOnHoldout({ model: trained.model, data, split: { testFraction: 0.2, seed: 42 }, slices: { column: 'id', values: data.rows.map(([x]) => `c${x}`) } })).rejects.toThrow(
      "params.slice_column 'id' has 200 values on the holdout; at most 100 slices are reported",
    );
  });

  it("holdout.npy: the holdout split's feature rows in the model's input order, float32, what serving times a latency bound on", () => {
    const { data } = loadDataset(path, 'label');
    const split = { testFraction: 0.2, seed: 42 };
    const test = holdoutRowIndices(data.rows.length, split);
    expect(test).toEqual(holdoutSplit(data.rows.length, 0.2, 42).test);
    const decoded = decodeHoldoutNpy(holdoutNpy(data, split));
    expect(decoded).toMatchObject({ rows: test.length, features: data.features.length });
    expect(Array.from(decoded.data.subarray(0, data.features.length))).toEqual(Array.from(Float32Array.from(data.rows[test[0]])));
    // Without a held-out part every row is the holdout.
    expect(decodeHoldoutNpy(holdoutNpy(data, { testFraction: 0, seed: 42 })).rows).toBe(data.rows.length);
  });
});
