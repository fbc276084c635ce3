// Drift window throughput (not a timed test): predictions/s through the O(1) window update
// path (DriftDetector.add) for 30 features, window 500, including each window's evaluation.
// usage: npm run build && node bench/loop/drift-window.mjs   (ROWS=500000 LARGE_REFERENCE_ROWS=20000)
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
const require = createRequire(import.meta.url);
const { buildReferenceProfile, DriftDetector } = require(resolve(import.meta.dirname, '../../dist/libs/drift/src/index.js'));

const FEATURES = 30;
const N = Number(process.env.ROWS ?? 500_000);
let seed = 42;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const row = (shift) => {
  const r = {};
  for (let f = 0; f < FEATURES; f++) r[`f${f}`] = f % 5 === 4 ? ['a', 'b', 'c'][Math.floor(rand() * 3)] : rand() + shift;
  return r;
};

for (const refRows of [1000, Number(process.env.LARGE_REFERENCE_ROWS ?? 20_000)]) {
  const reference = buildReferenceProfile({ rows: Array.from({ length: refRows }, () => row(0)) });
  const detector = new DriftDetector(reference, { windowSize: 500 });
  const rows = Array.from({ length: Math.min(50_000, N) }, () => row(0.05));
  let windows = 0;
  for (let i = 0; i < 5000; i++) detector.add(rows[i % rows.length]); // warm-up
  const start = performance.now();
  for (let i = 0; i < N; i++) if (detector.add(rows[i % rows.length])) windows++;
  const seconds = (performance.now() - start) / 1000;
  const tests = [...new Set(Object.values(detector.plan()).map((p) => p.method))].join('+');
  console.log(`reference ${refRows} rows (${tests}): ${Math.round(N / seconds).toLocaleString()} predictions/s, ${FEATURES} features, ${windows} windows of 500`);
}
