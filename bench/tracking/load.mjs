// Tracking log-batch load (benchmark, not a test). Same client and payload for any
// MLflow-compatible tracking server: one experiment + one run, a warm-up, then
//   phase "sequential": 1 client, one log-batch after another,
//   phase "concurrent": C clients in parallel,
// each bounded by a request count AND a time limit (whichever comes first). Every request
// carries 1,000 metrics: KEYS keys x (1000/KEYS) steps, steps never repeat across requests.
// At the end it reads metrics/get-history for key m0 and checks the stored count.
// usage: node load.mjs --url http://127.0.0.1:PORT --label NAME --out result.json
//   env: SEQ_N (200) SEQ_SECONDS (20) CONC (8) CONC_N (400) CONC_SECONDS (20) WARMUP (5)
// Also: node load.mjs --compare ours.json mlflow.json   (prints the side-by-side and ratio)
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    label: { type: 'string', default: 'server' },
    out: { type: 'string' },
    compare: { type: 'boolean', default: false },
  },
  allowPositionals: true,
  strict: false,
});

const METRICS_PER_REQUEST = 1000;
const KEYS = 10;
const STEPS_PER_REQUEST = METRICS_PER_REQUEST / KEYS;

if (args.compare) {
  compare(...process.argv.slice(process.argv.indexOf('--compare') + 1).map((f) => JSON.parse(readFileSync(f, 'utf8'))));
} else {
  await main();
}

async function main() {
  const base = `${args.url.replace(/\/$/, '')}/api/2.0/mlflow`;
  const env = (k, d) => Number(process.env[k] ?? d);
  const cfg = {
    seqN: env('SEQ_N', 200),
    seqSeconds: env('SEQ_SECONDS', 20),
    conc: env('CONC', 8),
    concN: env('CONC_N', 400),
    concSeconds: env('CONC_SECONDS', 20),
    warmup: env('WARMUP', 5),
  };

  const call = async (method, path, body) => {
    const res = await fetch(`${base}/${path}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : undefined,
      body,
      signal: AbortSignal.timeout(120_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : {};
  };

  const { experiment_id } = await call('POST', 'experiments/create', JSON.stringify({ name: `bench-${args.label}-${Date.now()}` }));
  const { run } = await call('POST', 'runs/create', JSON.stringify({ experiment_id, start_time: Date.now(), run_name: 'log-batch-bench' }));
  const runId = run.info.run_id;

  let nextBatch = 0; // global batch index -> unique steps
  let ok = 0;
  const payload = () => {
    const b = nextBatch++;
    const ts = Date.now();
    const metrics = new Array(METRICS_PER_REQUEST);
    let i = 0;
    for (let s = 0; s < STEPS_PER_REQUEST; s++) {
      const step = b * STEPS_PER_REQUEST + s;
      for (let k = 0; k < KEYS; k++) metrics[i++] = { key: `m${k}`, value: Math.sin(step + k) * 0.5 + 0.5, timestamp: ts, step };
    }
    return JSON.stringify({ run_id: runId, metrics });
  };
  const logBatch = async () => {
    const body = payload(); // built before the clock starts
    const t = performance.now();
    await call('POST', 'runs/log-batch', body);
    ok++;
    return performance.now() - t;
  };

  for (let i = 0; i < cfg.warmup; i++) await logBatch();

  const phase = async (name, clients, maxRequests, seconds) => {
    const latencies = [];
    const errors = [];
    let started = 0;
    const t0 = performance.now();
    const deadline = t0 + seconds * 1000;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (started < maxRequests && performance.now() < deadline) {
          started++;
          try {
            latencies.push(await logBatch());
          } catch (e) {
            errors.push(String(e.message ?? e));
          }
        }
      }),
    );
    const elapsed = (performance.now() - t0) / 1000;
    latencies.sort((a, b) => a - b);
    const pct = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] : NaN);
    const r = {
      phase: name,
      clients,
      requests: latencies.length,
      errors: errors.length,
      firstError: errors[0],
      seconds: elapsed,
      boundedBy: latencies.length + errors.length >= maxRequests ? 'count' : 'time',
      metricsPerSecond: (latencies.length * METRICS_PER_REQUEST) / elapsed,
      p50ms: pct(0.5),
      p99ms: pct(0.99),
    };
    console.log(
      `  ${args.label} ${name} (${clients} client${clients > 1 ? 's' : ''}): ${r.requests} req in ${elapsed.toFixed(1)} s (bounded by ${r.boundedBy}), ` +
        `${r.metricsPerSecond.toFixed(0)} metrics/s, p50 ${r.p50ms.toFixed(1)} ms, p99 ${r.p99ms.toFixed(1)} ms, errors ${r.errors}` +
        (r.firstError ? ` (first: ${r.firstError})` : ''),
    );
    return r;
  };

  const sequential = await phase('sequential', 1, cfg.seqN, cfg.seqSeconds);
  const concurrent = await phase('concurrent', cfg.conc, cfg.concN, cfg.concSeconds);

  // verification: every successful request stored STEPS_PER_REQUEST points of key m0
  const history = await call('GET', `metrics/get-history?run_id=${runId}&metric_key=m0`);
  let stored = (history.metrics ?? []).length;
  if (history.next_page_token) stored = `${stored}+ (paged)`;
  const expected = ok * STEPS_PER_REQUEST;
  const verified = stored === expected;
  console.log(`  ${args.label} verify: get-history m0 returned ${stored}, expected ${expected} (${ok} successful log-batch x ${STEPS_PER_REQUEST}) -> ${verified ? 'OK' : 'MISMATCH'}`);

  const result = { label: args.label, url: args.url, config: cfg, metricsPerRequest: METRICS_PER_REQUEST, sequential, concurrent, verify: { stored, expected, verified } };
  if (args.out) writeFileSync(args.out, JSON.stringify(result, null, 2));
  if (!verified) process.exitCode = 2;
}

function compare(ours, theirs) {
  const row = (r) => `${r.metricsPerSecond.toFixed(0).padStart(9)} metrics/s  p50 ${r.p50ms.toFixed(1).padStart(7)} ms  p99 ${r.p99ms.toFixed(1).padStart(7)} ms  (${r.requests} req, ${r.errors} err)`;
  console.log('');
  console.log(`log-batch throughput, ${ours.metricsPerRequest} metrics per request`);
  for (const phase of ['sequential', 'concurrent']) {
    const a = ours[phase];
    const b = theirs[phase];
    console.log(`${phase} (${a.clients} client${a.clients > 1 ? 's' : ''}):`);
    console.log(`  ${ours.label.padEnd(14)} ${row(a)}`);
    console.log(`  ${theirs.label.padEnd(14)} ${row(b)}`);
    console.log(`  ratio ${ours.label}/${theirs.label}: ${(a.metricsPerSecond / b.metricsPerSecond).toFixed(2)}x ${theirs.label.startsWith('mlflow') ? ' (target >= 5x)' : ''}`);
  }
  console.log(`stored (get-history m0): ${ours.label} ${ours.verify.stored}/${ours.verify.expected} ${ours.verify.verified ? 'OK' : 'MISMATCH'}, ` +
    `${theirs.label} ${theirs.verify.stored}/${theirs.verify.expected} ${theirs.verify.verified ? 'OK' : 'MISMATCH'}`);
}
