// Reads the result files measure.sh wrote in DIR and prints (a) ours, (b) the gRPC floor,
// (c) the model floor, (d) the ratios, (e) the peer, (f) REST, (g) the monitor, and the targets
// (PASS/FAIL, never adjusted). usage: node report.mjs DIR
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
const dir = process.argv[2];
const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'));
const ghz = (name) => {
  const file = join(dir, `${name}.json`);
  if (!existsSync(file)) return undefined;
  const r = JSON.parse(readFileSync(file, 'utf8'));
  const pct = (p) => (r.latencyDistribution ?? []).find((d) => d.percentage === p)?.latency / 1e6;
  const ok = r.statusCodeDistribution?.OK ?? 0;
  return { rps: r.rps, count: r.count, ok, errors: r.count - ok, errorDistribution: r.errorDistribution, p50: pct(50), p99: pct(99), avg: r.average / 1e6 };
};
const floor = JSON.parse(readFileSync(join(dir, 'model-floor.json'), 'utf8'));
const f = (x, d = 0) => (x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(d));
const pad = (s, n) => String(s).padStart(n);
const rowsList = [1, 100];
const conc = meta.concurrencies;

console.log(`serving benchmark (issue 5 item 8) ${meta.date}`);
console.log(`  host: ${meta.cpus} cpus (${meta.cpuModel}), node ${meta.node}, onnxruntime-node ${floor.onnxruntime}, ghz ${meta.ghz}`);
console.log(`  pinning: ${meta.pin ? 'server/model floor on cpu 0, ghz on cpu 1 (--cpus 1)' : 'none (server and ghz share both cpus)'}`);
console.log(`  load: ghz, ${meta.seconds}s per point after ${meta.warmup}s warm-up, ${meta.connections ?? 1} HTTP/2 connection(s), --duration-stop wait, 127.0.0.1, typed fp32_contents, 30 features`);
console.log(`  ours: ${meta.oursEnv}`);
console.log(`  peer: ${meta.peer ?? 'none'} (bench/serving/peer/onnx_model.py, parallel_workers ${meta.peerWorkers ?? 0}, 1 intra-op thread)`);
console.log('');
const header = `  ${pad('rows/req', 8)} ${pad('conc', 5)} ${pad('req/s', 9)} ${pad('rows/s', 10)} ${pad('p50 ms', 8)} ${pad('p99 ms', 8)} ${pad('errors', 7)}`;
const line = (rows, c, r) =>
  `  ${pad(rows, 8)} ${pad(c, 5)} ${pad(f(r?.rps), 9)} ${pad(f(r && r.rps * rows), 10)} ${pad(f(r?.p50, 2), 8)} ${pad(f(r?.p99, 2), 8)} ${pad(r ? r.errors : 'n/a', 7)}`;
const tables = [
  ['(a) ours: ModelInfer on dist/services/serving/src/main.js', 'ours'],
  [`(b) gRPC floor: bare @grpc/grpc-js echo-server.mjs, canned response, ${meta.echoProcesses ?? 1} process(es)`, 'echo'],
  ['(e) peer: MLServer + onnxruntime (python), same ONNX file, same request files', 'peer'],
];
for (const [title, prefix] of tables) {
  if (prefix === 'peer' && !ghz(`peer-r1-c${conc[0]}`)) continue;
  console.log(title);
  console.log(header);
  for (const rows of rowsList) for (const c of conc) console.log(line(rows, c, ghz(`${prefix}-r${rows}-c${c}`)));
  console.log('');
}
console.log('(c) model floor: onnxruntime-node in-process, one run at a time');
console.log(`  ${pad('batch', 8)} ${pad('runs/s', 9)} ${pad('rows/s', 10)} ${pad('p50 ms', 8)} ${pad('p99 ms', 8)}`);
for (const rows of rowsList) {
  const b = floor.batch[rows];
  console.log(`  ${pad(rows, 8)} ${pad(f(b.runsPerS), 9)} ${pad(f(b.rowsPerS), 10)} ${pad(f(b.p50Ms, 3), 8)} ${pad(f(b.p99Ms, 3), 8)}`);
}
console.log('');

console.log('(d) ratios');
const verdicts = [];
for (const rows of rowsList)
  for (const c of conc) {
    const o = ghz(`ours-r${rows}-c${c}`), e = ghz(`echo-r${rows}-c${c}`);
    const vsGrpc = o && e ? o.rps / e.rps : NaN;
    const vsModel = o ? (o.rps * rows) / floor.batch[rows].rowsPerS : NaN;
    console.log(`  rows ${pad(rows, 3)} conc ${pad(c, 2)}: ours/gRPC floor ${f(vsGrpc, 2)}x   ours rows/s / model floor rows/s (batch ${rows}) ${f(vsModel, 4)}x`);
    verdicts.push([`throughput >= 0.8x gRPC floor (rows ${rows}, conc ${c})`, `${f(vsGrpc, 2)}x`, vsGrpc >= 0.8]);
  }
for (const rows of rowsList)
  for (const c of conc) {
    const o = ghz(`ours-r${rows}-c${c}`), p = ghz(`peer-r${rows}-c${c}`);
    if (!p) continue;
    const vsPeer = o ? o.rps / p.rps : NaN;
    console.log(`  rows ${pad(rows, 3)} conc ${pad(c, 2)}: ours/peer (MLServer) ${f(vsPeer, 2)}x`);
    verdicts.push([`throughput >= 3x the peer (rows ${rows}, conc ${c})`, `${f(vsPeer, 2)}x`, vsPeer >= 3]);
  }
const peak = (rows) => Math.max(...conc.map((c) => ghz(`ours-r${rows}-c${c}`)?.rps ?? 0));
const rows1 = peak(1), rows100 = peak(100) * 100;
const scale = rows100 / rows1;
console.log(`  ours 100-row rows/s (${f(rows100)}) / 1-row rows/s (${f(rows1)}), best concurrency each: ${f(scale, 2)}x`);
for (const c of conc) {
  const a = ghz(`ours-r1-c${c}`), b = ghz(`ours-r100-c${c}`);
  if (a && b) console.log(`    at conc ${c}: ${f((b.rps * 100) / a.rps, 2)}x`);
}
verdicts.push(['100-row rows/s >= 10x 1-row rows/s (best concurrency each)', `${f(scale, 2)}x`, scale >= 10]);
console.log('');
console.log(`half of peak load (ghz --rps = half of ours' best req/s, conc ${meta.halfConcurrency}, ${meta.seconds}s)`);
console.log(header.replace('conc', ' rps'));
for (const rows of rowsList) {
  const h = ghz(`ours-half-r${rows}`);
  console.log(line(rows, meta.halfRps[rows], h) + (h ? `  (achieved ${f(h.rps)} req/s)` : ''));
  const e = ghz(`echo-half-r${rows}`);
  if (e) console.log(line(rows, meta.halfRps[rows], e) + `  gRPC floor at the same load (achieved ${f(e.rps)} req/s)`);
  const ratio = h && e ? h.p99 / e.p99 : NaN;
  verdicts.push([
    `p99 <= 1.5x the gRPC floor's p99 at half of peak load (rows ${rows}, ${meta.halfRps[rows]} req/s)`,
    `${f(h?.p99, 2)} ms / ${f(e?.p99, 2)} ms = ${f(ratio, 2)}x`,
    h !== undefined && h.errors === 0 && ratio <= 1.5,
  ]);
}
console.log('');
const rest = (name) => {
  const file = join(dir, `${name}.json`);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
};
console.log('(f) REST: POST /v2/models/m/infer, JSON tensor data, autocannon (one request in flight per connection; its latencies have 1 ms resolution)');
console.log(header.replace('conc', 'conns') + `  ${pad('MLServer req/s', 14)} ${pad('ours/MLServer', 13)}`);
for (const rows of rowsList)
  for (const c of conc) {
    const o = rest(`rest-ours-r${rows}-c${c}`), p = rest(`rest-peer-r${rows}-c${c}`);
    const ratio = o && p ? o.rps / p.rps : NaN;
    console.log(line(rows, c, o) + `  ${pad(f(p?.rps), 14)} ${pad(p ? `${f(ratio, 2)}x` : 'n/a', 13)}`);
    if (p) verdicts.push([`REST throughput >= 3x MLServer REST (rows ${rows}, conns ${c})`, `${f(ratio, 2)}x`, ratio >= 3 && o.errors === 0]);
  }
const monitorFile = join(dir, 'monitor.json');
if (existsSync(monitorFile)) {
  const m = JSON.parse(readFileSync(monitorFile, 'utf8'));
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log('');
  console.log(`(g) monitor: serving's prediction.logged v2 through the monitoring service's consumer path, ${m.features} features, window ${m.window}, backlog on the in-process bus, median of ${m.rounds} rounds`);
  console.log(`  ${pad('rows/req', 8)} ${pad('events', 8)} ${pad('bytes/event', 11)} ${pad('monitor pred/s', 15)} ${pad('no-op pred/s', 14)} ${pad('monitor/no-op', 14)}`);
  for (const [rows, r] of Object.entries(m.sizes)) {
    console.log(`  ${pad(rows, 8)} ${pad(r.events, 8)} ${pad(f(r.bytesPerEvent), 11)} ${pad(f(median(r.monitors)), 15)} ${pad(f(median(r.floors)), 14)} ${pad(f(median(r.ratios), 2), 14)}`);
  }
  const served = m.sizes[100];
  if (served) {
    verdicts.push(['monitor >= 100,000 predictions/s (100-row requests)', f(median(served.monitors)), median(served.monitors) >= 100_000]);
    verdicts.push(['monitor >= 0.5x the no-op consumer (100-row requests)', `${f(median(served.ratios), 2)}x`, median(served.ratios) >= 0.5]);
  }
}
console.log('');
console.log('targets');
for (const [name, value, pass] of verdicts) console.log(`  ${pass ? 'PASS' : 'FAIL'}  ${name}: ${value}`);
const errs = [...rowsList.flatMap((r) => conc.flatMap((c) => [`ours-r${r}-c${c}`, `echo-r${r}-c${c}`, `peer-r${r}-c${c}`])), 'ours-half-r1', 'ours-half-r100', 'echo-half-r1', 'echo-half-r100']
  .map((n) => [n, ghz(n)])
  .concat(rowsList.flatMap((r) => conc.flatMap((c) => [`rest-ours-r${r}-c${c}`, `rest-peer-r${r}-c${c}`])).map((n) => [n, rest(n)]))
  .filter(([, r]) => r && r.errors > 0);
for (const [n, r] of errs) console.log(`  WARNING ${n}: ${r.errors} non-OK responses ${JSON.stringify(r.errorDistribution)}`);
