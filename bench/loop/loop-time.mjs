// Loop time (a benchmark, not a timed test): in embedded mode (`npm start`'s composition: one
// process, in-process bus, SQLite), the time from the first prediction request with drifted
// data to the retrained version answering 100% of traffic, over a few runs, against the
// 30 s target. Each run is a full `runEmbedded` with a fresh data dir; the loop record
// (stage times) comes from the loop service.
// usage: npm run build && node bench/loop/loop-time.mjs
//   env: RUNS (3) RECORDS (3000, before and after the shift) WINDOW (300) PROMOTE_AFTER (100)
//        EPOCHS (200) LABEL_SHARE (0.5) VERBOSE (unset: progress lines off)
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const require = createRequire(import.meta.url);
require('reflect-metadata');
const { runEmbedded } = require(resolve(import.meta.dirname, '../../dist/platform/embedded/src/embedded.js'));

const TARGET_MS = 30_000;
const env = (name, fallback) => Number(process.env[name] ?? fallback);
const runs = env('RUNS', 3);
const options = {
  records: env('RECORDS', 3000),
  windowSize: env('WINDOW', 300),
  promoteAfter: env('PROMOTE_AFTER', 100),
  epochs: env('EPOCHS', 200),
  labelShare: env('LABEL_SHARE', 0.5),
};
const s = (ms) => `${(ms / 1000).toFixed(2)}s`;
const median = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

console.log(
  `loop time, embedded mode: ${runs} runs, ${options.records} records before and after the shift, drift window ${options.windowSize}, ` +
    `canary verdict after ${options.promoteAfter} predictions, ${options.epochs} epochs; node ${process.versions.node}, ${cpus().length} cores, load ${loadavg()[0].toFixed(2)}`,
);
const totals = [];
const rows = [];
for (let i = 1; i <= runs; i++) {
  const dataDir = mkdtempSync(join(tmpdir(), 'mlops-loop-time-'));
  try {
    const summary = await runEmbedded({
      dataDir,
      port: 0,
      grpcPort: 0,
      shiftRecords: options.records,
      serve: false,
      print: process.env.VERBOSE ? (line) => console.log(`  ${line}`) : () => undefined,
      ...options,
    });
    const t = summary.timeline;
    if (!summary.completed || summary.loop?.outcome !== 'promoted' || !t.shiftedAt || !t.servingAllAt) {
      console.log(`run ${i}: no promotion (outcome ${summary.loop?.outcome ?? '-'}, stopped at ${summary.stoppedAt ?? '-'}); not counted`);
      continue;
    }
    const stage = (type) => summary.loop.stages.find((x) => x.type === type && !x.ignored)?.sinceStartMs;
    const row = {
      total: t.servingAllAt - t.shiftedAt,
      detect: t.driftAt - t.shiftedAt,
      retrain: stage('training.completed'),
      canary: stage('model.promoted') - stage('deployment.completed'),
      loop: summary.loop.durationMs,
      swap: t.servingAllAt - (t.driftAt + summary.loop.durationMs),
      failed: summary.grpc.failed,
    };
    totals.push(row.total);
    rows.push(row);
    console.log(
      `run ${i}: ${s(row.total)} from the first drifted request to v${summary.newVersion} on 100% of traffic ` +
        `(drift detected after ${s(row.detect)}; drift -> training done ${s(row.retrain)}; canary ${s(row.canary)}; loop ${s(row.loop)}; gRPC failures ${row.failed})`,
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
if (totals.length === 0) {
  console.log('no run promoted a new version');
  process.exit(1);
}
const m = median(totals);
console.log(
  `\nfirst drifted request -> new version on 100% of traffic: median ${s(m)}, min ${s(Math.min(...totals))}, max ${s(Math.max(...totals))} ` +
    `over ${totals.length} runs; target 30s: median/target = ${(m / TARGET_MS).toFixed(2)} (${m <= TARGET_MS ? 'within' : 'over'} target)`,
);
console.log(`  of which (medians): drift detection ${s(median(rows.map((r) => r.detect)))}, drift -> training done ${s(median(rows.map((r) => r.retrain)))}, canary ${s(median(rows.map((r) => r.canary)))}`);
