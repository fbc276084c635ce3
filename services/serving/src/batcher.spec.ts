import { DynamicBatcher, type Feeds, type RunTiming } from './batcher';

/** A fake model: out = x * 10 + row index within the run; records each run's rows. */
function fakeModel(options: { failWhenRows?: number[]; scalarOutput?: boolean } = {}) {
  const runs: number[] = [];
  const run = async (feeds: Feeds): Promise<Feeds> => {
    const x = feeds.x;
    const rows = x.shape[0];
    runs.push(rows);
    await new Promise((r) => setTimeout(r, 2));
    if (options.failWhenRows?.includes(rows)) throw new Error('boom');
    const y = new Float32Array(x.data.length);
    for (let i = 0; i < y.length; i++) y[i] = (x.data[i] as number) * 10;
    const outputs: Feeds = {
      y: { datatype: 'FP32', shape: [...x.shape], data: y },
      label: { datatype: 'INT64', shape: [rows], data: BigInt64Array.from({ length: rows }, (_, i) => BigInt(Math.round((x.data[i * x.shape[1]] as number)))) },
    };
    if (options.scalarOutput) outputs.total = { datatype: 'FP32', shape: [], data: new Float32Array([rows]) };
    return outputs;
  };
  return { run, runs };
}

/** A request of `rows` rows x 3 features whose values start at `base`. */
function request(base: number, rows: number): Feeds {
  const data = new Float32Array(rows * 3);
  for (let r = 0; r < rows; r++) for (let c = 0; c < 3; c++) data[r * 3 + c] = base + r + c / 10;
  return { x: { datatype: 'FP32', shape: [rows, 3], data } };
}

function expectOwnRows(feeds: Feeds, outputs: Feeds) {
  const x = feeds.x;
  expect(outputs.y.shape).toEqual(x.shape);
  expect(Array.from(outputs.y.data as Float32Array)).toEqual(Array.from(x.data as Float32Array, (v) => Math.fround(v * 10)));
  expect(outputs.label.shape).toEqual([x.shape[0]]);
  expect(Array.from(outputs.label.data as BigInt64Array)).toEqual(
    Array.from({ length: x.shape[0] }, (_, r) => BigInt(Math.round(x.data[r * 3] as number))),
  );
}

describe('DynamicBatcher', () => {
  it('tells each request the duration and rows of the run that served it, one request per run marked first', async () => {
    const model = fakeModel();
    const batcher = new DynamicBatcher(model.run, { maxBatch: 64, delayUs: 2_000 });
    const requests = Array.from({ length: 6 }, (_, i) => request(i * 100, 2));
    const timings: RunTiming[] = requests.map(() => ({ runNs: 0, batchRows: 0, first: false }));
    await Promise.all(requests.map((r, i) => batcher.submit(r, 2, timings[i])));
    // The fake model takes 2 ms per run.
    for (const t of timings) expect(t.runNs).toBeGreaterThanOrEqual(1e6);
    expect(timings.filter((t) => t.first)).toHaveLength(model.runs.length);
    expect(timings.filter((t) => t.first).map((t) => t.batchRows).sort()).toEqual([...model.runs].sort());
  });

  it('coalesces concurrent requests into fewer runs and gives each exactly its rows', async () => {
    const model = fakeModel();
    const batcher = new DynamicBatcher(model.run, { maxBatch: 64, delayUs: 2_000 });
    const requests = Array.from({ length: 20 }, (_, i) => request(i * 100, 1 + (i % 3)));
    const results = await Promise.all(requests.map((r) => batcher.submit(r, r.x.shape[0])));
    results.forEach((out, i) => expectOwnRows(requests[i], out));
    expect(model.runs.length).toBeLessThan(requests.length);
    expect(model.runs.reduce((a, b) => a + b, 0)).toBe(requests.reduce((n, r) => n + r.x.shape[0], 0));
    expect(batcher.stats).toMatchObject({ requests: 20, coalescedRuns: model.runs.length });
  });

  it('never puts more than maxBatch rows in one run, and runs a big request alone', async () => {
    const model = fakeModel();
    const batcher = new DynamicBatcher(model.run, { maxBatch: 8, delayUs: 5_000 });
    const requests = [...Array.from({ length: 10 }, (_, i) => request(i * 10, 3)), request(1_000, 20)];
    const results = await Promise.all(requests.map((r) => batcher.submit(r, r.x.shape[0])));
    results.forEach((out, i) => expectOwnRows(requests[i], out));
    expect(model.runs).toContain(20);
    expect(model.runs.filter((r) => r !== 20).every((r) => r <= 8)).toBe(true);
  });

  it('runs at once when maxBatch rows are queued, without waiting for the delay', async () => {
    const model = fakeModel();
    const batcher = new DynamicBatcher(model.run, { maxBatch: 4, delayUs: 1_000_000 });
    const started = Date.now();
    await Promise.all([0, 1, 2, 3].map((i) => batcher.submit(request(i, 1), 1)));
    expect(Date.now() - started).toBeLessThan(500);
    expect(model.runs).toEqual([4]);
  });

  it('batches only requests with the same non-batch dimensions', async () => {
    const model = fakeModel();
    const batcher = new DynamicBatcher(model.run, { maxBatch: 64, delayUs: 2_000 });
    const wide: Feeds = { x: { datatype: 'FP32', shape: [2, 4], data: new Float32Array(8).fill(7) } };
    const [a, b] = await Promise.all([batcher.submit(request(1, 2), 2), batcher.submit(wide, 2)]);
    expectOwnRows(request(1, 2), a);
    expect(b.y.shape).toEqual([2, 4]);
    expect(model.runs).toEqual([2, 2]);
  });

  it('falls back to one run per request when a batched run fails, so one request never fails another', async () => {
    const model = fakeModel({ failWhenRows: [5] });
    const batcher = new DynamicBatcher(model.run, { maxBatch: 64, delayUs: 2_000 });
    const requests = [request(1, 2), request(2, 3)];
    const results = await Promise.all(requests.map((r) => batcher.submit(r, r.x.shape[0])));
    results.forEach((out, i) => expectOwnRows(requests[i], out));
    expect(model.runs).toEqual([5, 2, 3]);
  });

  it('rejects only the request whose own run fails', async () => {
    const model = fakeModel({ failWhenRows: [5, 3] });
    const batcher = new DynamicBatcher(model.run, { maxBatch: 64, delayUs: 2_000 });
    const [ok, bad] = await Promise.allSettled([batcher.submit(request(1, 2), 2), batcher.submit(request(2, 3), 3)]);
    expect(ok.status).toBe('fulfilled');
    expect(bad).toMatchObject({ status: 'rejected', reason: expect.objectContaining({ message: 'boom' }) });
  });

  it('stops batching a model whose outputs are not batched along dimension 0', async () => {
    const model = fakeModel({ scalarOutput: true });
    const batcher = new DynamicBatcher(model.run, { maxBatch: 64, delayUs: 2_000 });
    const [a, b] = await Promise.all([batcher.submit(request(1, 1), 1), batcher.submit(request(2, 2), 2)]);
    expect(Array.from(a.total.data as Float32Array)).toEqual([1]);
    expect(Array.from(b.total.data as Float32Array)).toEqual([2]);
    await batcher.submit(request(3, 1), 1);
    expect(model.runs).toEqual([3, 1, 2, 1]);
  });

  it('with a sub-millisecond delay still coalesces requests submitted together', async () => {
    const model = fakeModel();
    const batcher = new DynamicBatcher(model.run, { maxBatch: 64, delayUs: 500 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => batcher.submit(request(i, 1), 1)));
    expect(model.runs).toEqual([10]);
  });

  it('with a sub-millisecond delay, keeps the batch open while requests keep joining and runs at the first turn none did', async () => {
    // A frozen clock: the delay never runs out, so only a quiet turn can start the run.
    vi.useFakeTimers({ toFake: ['hrtime'] });
    const nextTurn = () => new Promise((r) => setImmediate(r));
    try {
      const model = fakeModel();
      const batcher = new DynamicBatcher(model.run, { maxBatch: 64, delayUs: 900 });
      const pending = [batcher.submit(request(0, 1), 1), batcher.submit(request(1, 1), 1)];
      await nextTurn();
      pending.push(batcher.submit(request(2, 2), 2));
      await nextTurn();
      expect(model.runs).toEqual([]);
      await nextTurn();
      expect(model.runs).toEqual([4]);
      vi.useRealTimers();
      const results = await Promise.all(pending);
      results.forEach((out, i) => expectOwnRows([request(0, 1), request(1, 1), request(2, 2)][i], out));
    } finally {
      vi.useRealTimers();
    }
  });
});
