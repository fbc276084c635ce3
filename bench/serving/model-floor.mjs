// The model floor: the same ONNX file run with onnxruntime-node directly, in-process, one run
// at a time (default session options, as services/serving creates them), at batch sizes 1 and
// 100. Prints one JSON line: {"batch":{"1":{runsPerS,rowsPerS,p50Ms,p99Ms},"100":{...}}}.
// usage: node model-floor.mjs MODEL.onnx [SECONDS per batch size, default 5]
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');
const [path, seconds = 5] = [process.argv[2], Number(process.argv[3] ?? 5)];
const session = await ort.InferenceSession.create(path);
const out = { onnxruntime: require('onnxruntime-node/package.json').version, seconds, batch: {} };
for (const rows of [1, 100]) {
  const data = Float32Array.from({ length: rows * 30 }, (_, i) => Math.sin(i));
  const feeds = { input: new ort.Tensor('float32', data, [rows, 30]) };
  for (let i = 0; i < 500; i++) await session.run(feeds);
  const lat = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    const t = performance.now();
    await session.run(feeds);
    lat.push(performance.now() - t);
  }
  const elapsed = (performance.now() - start) / 1000;
  lat.sort((a, b) => a - b);
  out.batch[rows] = {
    runs: lat.length,
    runsPerS: lat.length / elapsed,
    rowsPerS: (lat.length * rows) / elapsed,
    p50Ms: lat[Math.floor(lat.length * 0.5)],
    p99Ms: lat[Math.floor(lat.length * 0.99)],
  };
}
await session.release?.();
console.log(JSON.stringify(out));
