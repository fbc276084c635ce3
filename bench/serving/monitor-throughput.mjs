// The monitor's throughput on serving's prediction.logged (v2) through its real consumer path
// (not a timed test): events built by serving's own writer (predictionMessage) for requests of
// 100 and of 1 row, 30 FP32 features, label INT64 + probabilities FP32 [rows,2] as the bench
// model answers, already on the in-process bus (encoded, untimed) when the consumer starts, as
// after a pause. The monitoring service (decode + contract check, codec to typed arrays, drift
// window per row, label-join map, canary check) drains them; the no-op consumer is the same
// bus and the same decode into a handler that only counts rows. Floor and monitor of one round
// run back to back, so their ratio is the least noisy figure.
// usage: npm run build && node bench/serving/monitor-throughput.mjs [OUT.json]
// env:   ROWS=200000 (predictions per round at 100 rows a request; 1-row requests get ROWS/4) ROUNDS=3
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
const require = createRequire(import.meta.url);
const dist = (p) => require(resolve(import.meta.dirname, '../..', process.env.DIST ?? 'dist', p));
const { EventBus, InProcessTransport } = dist('libs/bus/src/index.js');
const { predictionMessage } = dist('services/serving/src/prediction-event.js');
const { startMonitoring, loadMonitoringConfig } = dist('services/monitoring/src/index.js');

const FEATURES = 30;
const WINDOW = 500;
const ROWS = Number(process.env.ROWS ?? 200_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CHUNK = 200; // events per publish, as serving's prediction log sends them

let seed = 42;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;

/** serving's messages for `n` predictions in requests of `perRequest` rows. */
function messages(n, perRequest) {
  const out = [];
  for (let r = 0; r * perRequest < n; r++) {
    const rows = Math.min(perRequest, n - r * perRequest);
    const input = Float32Array.from({ length: rows * FEATURES }, (_, i) => (i % FEATURES) % 5 === 4 ? Math.floor(rand() * 3) : rand() + 0.05);
    const p = Float32Array.from({ length: rows }, rand);
    out.push(
      predictionMessage(
        {
          model: 'bench',
          version: 1,
          requestId: `req-${r}`,
          latencyMs: 1,
          inputs: { input: { datatype: 'FP32', shape: [rows, FEATURES], data: input } },
          outputs: {
            label: { datatype: 'INT64', shape: [rows], data: BigInt64Array.from(p, (x) => (x > 0.5 ? 1n : 0n)) },
            probabilities: { datatype: 'FP32', shape: [rows, 2], data: Float32Array.from({ length: rows * 2 }, (_, i) => (i % 2 ? p[i >> 1] : 1 - p[i >> 1])) },
          },
        },
        Array.from({ length: rows }, (_, i) => i),
      ),
    );
  }
  return out;
}

const reference = Array.from({ length: 1000 }, () => {
  const row = {};
  for (let f = 0; f < FEATURES; f++) row[`input[${f}]`] = f % 5 === 4 ? Math.floor(rand() * 3) : rand();
  return row;
});

async function waitUntil(check) {
  while (!(await check())) await new Promise((r) => setTimeout(r, 5));
}

async function backlog(batch) {
  // All of it kept until read (the default keeps 16 MB a topic).
  const transport = new InProcessTransport({ retainMessages: batch.length, retainBytes: Number.MAX_SAFE_INTEGER });
  const bus = new EventBus(transport);
  for (let i = 0; i < batch.length; i += CHUNK) await bus.publishMessages(batch.slice(i, i + CHUNK));
  return transport;
}

/** The no-op consumer: the same bus and envelope decode, a handler that counts rows. */
async function noop(batch, n) {
  const transport = await backlog(batch);
  const bus = new EventBus(transport);
  let seen = 0;
  let first;
  const sub = await bus.subscribeEvents({
    group: 'noop',
    types: ['prediction.logged'],
    handle: async (e) => {
      seen += e.data.predictionIds?.length ?? 1;
      first ??= { done: seen, at: performance.now() };
    },
  });
  await waitUntil(() => seen >= n);
  // Timed from the first event, as the monitor is.
  const rate = (n - first.done) / ((performance.now() - first.at) / 1000);
  await sub.stop();
  await transport.close();
  return rate;
}

const total = async (metric) => (await metric.get()).values.reduce((s, v) => s + v.value, 0);

const startMonitor = (transport, databaseUrl) =>
  startMonitoring(loadMonitoringConfig({ DATABASE_URL: databaseUrl, MONITORING_PORT: '0', MONITORING_WINDOW_SIZE: String(WINDOW) }), {
    inProcess: transport,
    logger: false,
    defaultMetrics: false,
  });

/**
 * The monitoring service's production wiring draining the backlog. Its reference is stored in
 * a SQLite file by a first start (as a deployment's would be), so the restarted monitor has it
 * before its first event.
 */
async function monitor(batch, n) {
  const dir = mkdtempSync(join(tmpdir(), 'monitor-bench-'));
  const databaseUrl = `sqlite:${join(dir, 'monitoring.db')}`;
  const setup = await startMonitor(new InProcessTransport(), databaseUrl);
  await setup.loop.setReference('bench', 1, { rows: reference });
  await setup.close();
  const transport = await backlog(batch);
  const app = await startMonitor(transport, databaseUrl);
  // Timed from the first prediction it counted (its start-up is not its throughput).
  let first;
  await waitUntil(async () => {
    const done = await total(app.metrics.predictions);
    if (done > 0) first ??= { done, at: performance.now(), cpu: process.cpuUsage() };
    return done >= n;
  });
  const rate = (n - first.done) / ((performance.now() - first.at) / 1000);
  const cpu = process.cpuUsage(first.cpu);
  const cpuUsPerPrediction = (cpu.user + cpu.system) / (n - first.done);
  const windows = await total(app.metrics.windows);
  await app.close();
  await transport.close();
  rmSync(dir, { recursive: true, force: true });
  return { rate, windows, cpuUsPerPrediction };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x) => Math.round(x).toLocaleString('en-US');
const result = { features: FEATURES, window: WINDOW, rounds: ROUNDS, sizes: {} };
for (const perRequest of [100, 1]) {
  const n = perRequest === 1 ? Math.floor(ROWS / 4) : ROWS;
  const batch = messages(n, perRequest);
  const bytes = batch.reduce((s, m) => s + Buffer.byteLength(m.value), 0);
  await noop(batch, n); // warm-up (JIT)
  const floors = [];
  const monitors = [];
  const cpus = [];
  let windows = 0;
  for (let r = 0; r < ROUNDS; r++) {
    floors.push(await noop(batch, n));
    const m = await monitor(batch, n);
    monitors.push(m.rate);
    cpus.push(m.cpuUsPerPrediction);
    windows = m.windows;
  }
  const ratios = monitors.map((x, i) => x / floors[i]);
  result.sizes[perRequest] = { predictions: n, events: batch.length, bytesPerEvent: bytes / batch.length, floors, monitors, ratios, windows, cpuUsPerPrediction: cpus };
  console.log(`monitor throughput, requests of ${perRequest} row(s): ${fmt(n)} predictions in ${fmt(batch.length)} events of ${fmt(bytes / batch.length)} bytes, ${FEATURES} features, window ${WINDOW}, median of ${ROUNDS} rounds`);
  console.log(`  no-op consumer (same bus, counts rows): ${fmt(median(floors))} predictions/s   rounds: ${floors.map(fmt).join(', ')}`);
  console.log(`  monitoring service consumer path:      ${fmt(median(monitors))} predictions/s   rounds: ${monitors.map(fmt).join(', ')}  (${windows} windows evaluated)`);
  console.log(`  monitor / no-op: ${median(ratios).toFixed(2)} (per round: ${ratios.map((r) => r.toFixed(2)).join(', ')})`);
  // CPU time (all of the process's threads, GC included) is steadier than wall time on a shared machine.
  console.log(`  monitor CPU per prediction: ${median(cpus).toFixed(2)} µs (per round: ${cpus.map((c) => c.toFixed(2)).join(', ')}), i.e. ${fmt(1e6 / median(cpus))} predictions per CPU-second`);
}
if (process.argv[2]) writeFileSync(process.argv[2], JSON.stringify(result));
