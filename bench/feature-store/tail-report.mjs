// Prints the fixed-rate tail comparison of tail.sh (or run.sh) from the raw files in OUT:
// per phase the client's p50/p99, and for the feature store's own phases what its /metrics
// said about that phase (scraped just before and after it): event-loop delay, GC time,
// and the share of handler times over 2 ms.
// usage: node tail-report.mjs OUT
import { existsSync, readFileSync } from 'node:fs';
import { serverPhase } from './phase-metrics.mjs';

const out = process.argv[2];
const json = (name) => (existsSync(`${out}/${name}.json`) ? JSON.parse(readFileSync(`${out}/${name}.json`, 'utf8')) : undefined);
const f = (v, digits = 3) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(digits));

/** Client latency of a phase: ghz JSON or load.mjs JSON. */
function client(name) {
  const r = json(name);
  if (!r) return undefined;
  if (r.latencyDistribution) {
    const pct = (p) => r.latencyDistribution.find((d) => d.percentage === p)?.latency / 1e6;
    const ok = r.statusCodeDistribution?.OK ?? 0;
    return { rps: r.rps, p50: pct(50), p99: pct(99), max: r.slowest / 1e6, errors: r.count - ok };
  }
  return { rps: r.rps, p50: r.p50, p99: r.p99, max: r.max, errors: r.errors + (r.missing ?? 0) };
}

const meta = json('meta') ?? {};
console.log(`fixed-rate single-entity reads ${meta.date ?? ''}, load average at end ${meta.loadavg?.map((l) => l.toFixed(2)).join(' ')}`);
console.log(`  ${meta.env ?? ''}; ${meta.pin ? 'servers on cpu 0, load generators on cpu 1' : 'no pinning'}`);
console.log('  phase                                   calls/s   p50 ms   p99 ms   max ms  errors | server: loop delay p99/max ms, GC n/ms (major), handler >2 ms, mean ms');
const phases = [
  ['ghz-ours', 'ghz -> feature store'],
  ['ghz-floor', 'ghz -> grpc floor (floor-server.mjs)'],
  ['ghz-ours-ingest', 'ghz -> feature store, Kafka ingest on'],
  ['node-ours', 'node grpc-js -> feature store'],
  ['node-floor', 'node grpc-js -> grpc floor'],
  ['node-redis', 'node ioredis -> redis (bare HMGET)'],
];
for (const [name, label] of phases) {
  const c = client(name);
  if (!c) continue;
  const s = name.includes('ours') ? serverPhase(out, name) : undefined;
  const side = s
    ? ` | ${f(s.lagP99, 1)}/${f(s.lagMax, 1)}, ${s.gc.count}/${f(s.gc.seconds * 1e3, 1)} (${s.gc.major}), ${f(s.handlerOver2ms * 100, 2)} %, ${f(s.handlerMeanMs, 3)}`
    : '';
  console.log(`  ${label.padEnd(40)}${f(c.rps, 0).padStart(7)}${f(c.p50).padStart(9)}${f(c.p99).padStart(9)}${f(c.max, 1).padStart(9)}${String(c.errors).padStart(8)}${side}`);
}
const floorLoop = json('floor-server');
if (floorLoop) console.log(`  grpc floor server's own event-loop delay over its life (1 ms resolution): p99 ${f(floorLoop.p99, 2)} ms, max ${f(floorLoop.max, 1)} ms`);
for (const [label, ours, floor] of [
  ['ghz: ours / grpc floor p99', client('ghz-ours'), client('ghz-floor')],
  ['node: ours / grpc floor p99', client('node-ours'), client('node-floor')],
  ['node: ours / redis floor p99', client('node-ours'), client('node-redis')],
]) {
  if (ours && floor) console.log(`  ${label.padEnd(30)} ${f(ours.p99 / floor.p99, 2)}x (${f(ours.p99)} vs ${f(floor.p99)} ms)`);
}
