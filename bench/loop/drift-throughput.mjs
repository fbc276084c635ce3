// Drift throughput through the monitor's real consumer path (not a timed test): prediction.logged
// envelopes (30 features) on the in-process bus into the monitoring service (decode + contract
// validation, drift window, label-join map, canary check), next to a floor measured in the same
// run: the same envelopes through the same bus into a handler that only counts. Two ways:
// - live: this script publishes while the consumer consumes, so one thread also pays the
//   publisher's encoding (in production serving encodes, in another process);
// - backlog: the envelopes are already on the bus (encoded, untimed) when the consumer starts,
//   as after a pause; the time to drain them is the consumer's own rate, the figure that says
//   whether the monitor keeps up with a given traffic.
// Prints predictions/s of both, their ratios, and the monitor against 20,000/s.
// usage: npm run build && node bench/loop/drift-throughput.mjs   (ROWS=200000 ROUNDS=3 to change;
//        STALL_S=30: fail when a consumer makes no progress that long; REFERENCE_ROWS=1000)
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
const require = createRequire(import.meta.url);
const dist = (p) => require(resolve(import.meta.dirname, '../../dist', p));
const { EventBus, InProcessTransport } = dist('libs/bus/src/index.js');
const { createEvent } = dist('libs/contracts/src/index.js');
const { startMonitoring, loadMonitoringConfig } = dist('services/monitoring/src/index.js');

const FEATURES = 30;
const WINDOW = 500;
const N = Number(process.env.ROWS ?? 200_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CHUNK = 500; // events per publish, as serving's prediction log sends them
const STALL_S = Number(process.env.STALL_S ?? 30);
const REFERENCE_ROWS = Number(process.env.REFERENCE_ROWS ?? 1_000);
const TARGET = 20_000;

let seed = 42;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const inputs = (shift) => {
  const r = {};
  for (let f = 0; f < FEATURES; f++) r[`input[${f}]`] = f % 5 === 4 ? Math.floor(rand() * 3) : rand() + shift;
  return r;
};

const envelopes = Array.from({ length: N }, (_, i) => {
  const p = rand();
  return createEvent('prediction.logged', {
    source: 'serving',
    subject: 'bench',
    data: { predictionId: `p${i}`, model: 'bench', version: 1, inputs: inputs(0.05), outputs: { label: p > 0.5 ? 1 : 0, probabilities: [1 - p, p] }, latencyMs: 1 },
  });
});

async function publishAll(bus, until) {
  const start = performance.now();
  for (let i = 0; i < N; i += CHUNK) await bus.publish(envelopes.slice(i, i + CHUNK));
  await until();
  return N / ((performance.now() - start) / 1000);
}

/**
 * Polls every 5 ms (a busier poll would take CPU from the consumer it waits for). Fails when
 * `progress()` stands still for STALL_S seconds, instead of waiting for ever.
 */
async function waitUntil(check, progress, what) {
  let last = -1;
  let since = performance.now();
  while (!(await check())) {
    const now = await progress();
    if (now !== last) [last, since] = [now, performance.now()];
    else if (performance.now() - since > STALL_S * 1000) throw new Error(`${what}: stuck at ${now} of ${N} for ${STALL_S} s`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A consumer that joined after retention dropped envelopes would never see N: say so at once. */
function assertNoGap(transport) {
  const gaps = transport.joinGaps();
  if (gaps.length) throw new Error(`the backlog was cut before the consumer joined: ${JSON.stringify(gaps)}`);
}

/** The same bus, a handler that only counts. */
async function floor() {
  const transport = new InProcessTransport();
  const bus = new EventBus(transport);
  let seen = 0;
  const sub = await bus.subscribeEvents({ group: 'floor', types: ['prediction.logged'], handle: async () => void seen++ });
  const rate = await publishAll(bus, () => waitUntil(() => seen >= N, () => seen, 'floor (live)'));
  await sub.stop();
  await transport.close();
  return rate;
}

const reference = Array.from({ length: REFERENCE_ROWS }, () => inputs(0));
const total = async (metric) => (await metric.get()).values.reduce((s, v) => s + v.value, 0);
const startMonitor = (transport, databaseUrl) =>
  startMonitoring(loadMonitoringConfig({ DATABASE_URL: databaseUrl, MONITORING_PORT: '0', MONITORING_WINDOW_SIZE: String(WINDOW) }), {
    inProcess: transport,
    logger: false,
    defaultMetrics: false,
  });

/** The monitoring service's production wiring on the in-process bus (SQLite in memory). */
async function monitor() {
  const transport = new InProcessTransport();
  const app = await startMonitor(transport, 'sqlite::memory:');
  await app.loop.setReference('bench', 1, { rows: reference });
  const bus = new EventBus(transport);
  const rate = await publishAll(bus, () => waitUntil(async () => (await total(app.metrics.predictions)) >= N, () => total(app.metrics.predictions), 'monitor (live)'));
  const windows = await total(app.metrics.windows);
  await app.close();
  return { rate, windows };
}

/**
 * A bus already holding all the envelopes, encoded (not timed). Its retention holds all of
 * them: with the default 16 MiB a consumer joining after 30,000 envelopes saw 14,156.
 */
async function backlogBus() {
  const transport = new InProcessTransport({ retainMessages: N, retainBytes: Infinity });
  const bus = new EventBus(transport);
  for (let i = 0; i < N; i += CHUNK) await bus.publish(envelopes.slice(i, i + CHUNK));
  return { transport, bus };
}

async function floorBacklog() {
  const { transport, bus } = await backlogBus();
  let seen = 0;
  const start = performance.now();
  const sub = await bus.subscribeEvents({ group: 'floor', types: ['prediction.logged'], handle: async () => void seen++ });
  assertNoGap(transport);
  await waitUntil(() => seen >= N, () => seen, 'floor (backlog)');
  const rate = N / ((performance.now() - start) / 1000);
  await sub.stop();
  await transport.close();
  return rate;
}

/**
 * The monitor draining the backlog. Its reference is stored in a SQLite file by a first start
 * (as a deployment's would be), so the restarted monitor has it before its first event.
 */
async function monitorBacklog() {
  const dir = mkdtempSync(join(tmpdir(), 'drift-bench-'));
  const databaseUrl = `sqlite:${join(dir, 'monitoring.db')}`;
  const first = await startMonitor(new InProcessTransport(), databaseUrl);
  await first.loop.setReference('bench', 1, { rows: reference });
  await first.close();
  const { transport } = await backlogBus();
  const start = performance.now();
  const app = await startMonitor(transport, databaseUrl);
  assertNoGap(transport);
  await waitUntil(async () => (await total(app.metrics.predictions)) >= N, () => total(app.metrics.predictions), 'monitor (backlog)');
  const rate = N / ((performance.now() - start) / 1000);
  const windows = await total(app.metrics.windows);
  await app.close();
  await transport.close();
  rmSync(dir, { recursive: true, force: true });
  return { rate, windows };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x) => Math.round(x).toLocaleString('en-US');
const runs = { live: { floors: [], monitors: [], windows: 0 }, backlog: { floors: [], monitors: [], windows: 0 } };
await floor(); // warm-up (JIT)
for (let r = 0; r < ROUNDS; r++) {
  runs.live.floors.push(await floor());
  const m = await monitor();
  runs.live.monitors.push(m.rate);
  runs.live.windows = m.windows;
  runs.backlog.floors.push(await floorBacklog());
  const b = await monitorBacklog();
  runs.backlog.monitors.push(b.rate);
  runs.backlog.windows = b.windows;
}
console.log(`drift throughput, ${N.toLocaleString('en-US')} prediction.logged envelopes, ${FEATURES} features, window ${WINDOW}, reference ${REFERENCE_ROWS.toLocaleString('en-US')} rows, median of ${ROUNDS} rounds`);
for (const [mode, { floors, monitors, windows }] of Object.entries(runs)) {
  const f = median(floors);
  const m = median(monitors);
  // floor and monitor of one round run back to back, so their ratio is the least noisy figure
  const ratios = monitors.map((x, i) => x / floors[i]);
  console.log(mode === 'live' ? '  live (this script publishes while the consumer runs):' : '  backlog (consumer drains envelopes already on the bus):');
  console.log(`    floor (same bus, counting handler): ${fmt(f)} predictions/s   rounds: ${floors.map(fmt).join(', ')}`);
  console.log(`    monitoring service consumer path:  ${fmt(m)} predictions/s   rounds: ${monitors.map(fmt).join(', ')}  (${windows} windows evaluated)`);
  console.log(`    monitor / floor: ${median(ratios).toFixed(2)} (median of per-round ratios: ${ratios.map((r) => r.toFixed(2)).join(', ')})`);
  console.log(`    monitor / 20,000 target: ${(m / TARGET).toFixed(2)}   floor / 20,000 target: ${(f / TARGET).toFixed(2)}`);
}
