// Prints the feature store benchmark from the raw results in OUT (run.sh writes them).
// usage: node report.mjs OUT
import { existsSync, readFileSync } from 'node:fs';
import { serverPhase } from './phase-metrics.mjs';

const out = process.argv[2];
const read = (name) => (existsSync(`${out}/${name}.json`) ? JSON.parse(readFileSync(`${out}/${name}.json`, 'utf8')) : undefined);
const ghz = (name) => {
  const r = read(name);
  if (!r) return undefined;
  const pct = (p) => (r.latencyDistribution ?? []).find((d) => d.percentage === p)?.latency / 1e6;
  const ok = r.statusCodeDistribution?.OK ?? 0;
  return { rps: r.rps, count: r.count, errors: r.count - ok, p50: pct(50), p99: pct(99) };
};
const f = (v, digits = 2) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(digits));
const pad = (v, n) => String(v).padStart(n);
const meta = read('meta') ?? {};
const preload = read('preload');
const fresh = read('freshness');

console.log(`feature store benchmark (issue 3) ${meta.date ?? ''}`);
console.log(`  host: ${meta.cpus} cpus (${meta.cpuModel}), node ${meta.node}, ghz ${meta.ghz}, loadavg at end ${meta.loadavg?.map((l) => l.toFixed(2)).join(' ')}`);
console.log(`  ${meta.pin ? 'pinning: feature store on cpu 0, load generators on cpu 1' : 'no pinning'}; Kafka, Postgres, Redis on this machine (loopback), shared with other work`);
console.log(`  server: node dist/services/feature-store/src/main.js, BUS=kafka, ONLINE_STORE=redis, DATABASE_URL=postgres; ${meta.env}`);
if (preload) {
  console.log(`  preload: ${preload.applied}/${preload.entities} entities through Kafka -> applied (Postgres history + Redis) in ${f(preload.applySeconds, 1)} s = ${f(preload.appliedPerSecond, 0)} events/s`);
}

console.log('\n(a) online reads: GetOnlineFeatures over gRPC on loopback, random preloaded keys');
console.log('  client              keys/call  load            calls/s  entities/s   p50 ms   p99 ms  errors');
const row = (client, batch, load, r) =>
  r && console.log(`  ${client.padEnd(20)}${pad(batch, 9)}  ${load.padEnd(14)}${pad(f(r.rps, 0), 9)}${pad(f(r.rps * batch, 0), 12)}${pad(f(r.p50, 3), 9)}${pad(f(r.p99, 3), 9)}${pad(r.errors + (r.missing ?? 0), 8)}`);
const conc = meta.env?.match(/CONC=(\d+)/)?.[1];
const rate = meta.env?.match(/RATE=(\d+)/)?.[1];
row('ghz', 1, `c=${conc}`, ghz('ghz-b1'));
row('ghz', 100, `c=${conc}`, ghz('ghz-b100'));
row('ghz', 1, `${rate}/s fixed`, ghz('ghz-b1-rate'));
row('node grpc-js', 1, `c=${conc}`, read('grpc-b1'));
row('node grpc-js', 100, `c=${conc}`, read('grpc-b100'));
row('node grpc-js', 1, `${rate}/s fixed`, read('grpc-b1-rate'));

console.log('\n(c) floor: bare ioredis pipeline of HMGET t v per key, same keys, same Node client loop');
console.log('  client              keys/call  load            calls/s  entities/s   p50 ms   p99 ms  errors');
row('node ioredis', 1, `c=${conc}`, read('redis-b1'));
row('node ioredis', 100, `c=${conc}`, read('redis-b100'));
row('node ioredis', 1, `${rate}/s fixed`, read('redis-b1-rate'));
console.log('\n(c) gRPC floor: floor-server.mjs (bare grpc-js + the same ioredis HMGET, none of our code) on the feature store\'s cpu, same load generators');
row('ghz', 1, `${rate}/s fixed`, ghz('ghz-floor-b1-rate'));
row('node grpc-js', 1, `${rate}/s fixed`, read('floor-b1-rate'));
const floorLoop = read('floor-server');
if (floorLoop) console.log(`  floor server's own event-loop delay over its life (perf_hooks, 1 ms resolution): p99 ${f(floorLoop.p99, 2)} ms, max ${f(floorLoop.max, 1)} ms`);

console.log('\n  the feature store during its fixed-rate phases (its /metrics, scraped before and after each):');
for (const [label, name] of [['ghz', 'ghz-b1-rate'], ['node grpc-js', 'grpc-b1-rate']]) {
  const s = serverPhase(out, name);
  if (s) {
    console.log(`  ${label.padEnd(14)} event-loop delay p99 ${f(s.lagP99, 1)} ms, max ${f(s.lagMax, 1)} ms (10 ms resolution); GC ${s.gc.count} pauses, ${f(s.gc.seconds * 1e3, 1)} ms (${s.gc.major} major); handler > 2 ms: ${f(s.handlerOver2ms * 100, 2)} %`);
  }
}

console.log('\n  ours (node grpc-js) / floor (node ioredis):   throughput   p50 latency   p99 latency');
for (const [label, ours, floor] of [
  [`1 key, c=${conc}`, read('grpc-b1'), read('redis-b1')],
  [`100 keys, c=${conc}`, read('grpc-b100'), read('redis-b100')],
  [`1 key, ${rate}/s`, read('grpc-b1-rate'), read('redis-b1-rate')],
]) {
  if (ours && floor) console.log(`  ${label.padEnd(44)}${pad(f(ours.rps / floor.rps, 2) + 'x', 11)}${pad(f(ours.p50 / floor.p50, 2) + 'x', 14)}${pad(f(ours.p99 / floor.p99, 2) + 'x', 14)}`);
}
console.log('  ours / gRPC floor, same client, same run:');
for (const [label, ours, floor] of [
  [`ghz, 1 key, ${rate}/s`, ghz('ghz-b1-rate'), ghz('ghz-floor-b1-rate')],
  [`node grpc-js, 1 key, ${rate}/s`, read('grpc-b1-rate'), read('floor-b1-rate')],
]) {
  if (ours && floor) console.log(`  ${label.padEnd(44)}${pad(f(ours.rps / floor.rps, 2) + 'x', 11)}${pad(f(ours.p50 / floor.p50, 2) + 'x', 14)}${pad(f(ours.p99 / floor.p99, 2) + 'x', 14)}   (p99 ${f(ours.p99)} vs ${f(floor.p99)} ms)`);
}

if (fresh) {
  console.log('\n(b) ingest-to-online freshness: kafkajs producer send start -> first GetOnlineFeatures reply showing the value (polled every ~1 ms)');
  console.log(`  ${fresh.sent} events at ${fresh.rate}/s, ${fresh.visible} visible, ${fresh.notVisible} not visible: p50 ${f(fresh.p50, 1)} ms, p90 ${f(fresh.p90, 1)} ms, p99 ${f(fresh.p99, 1)} ms, max ${f(fresh.max, 1)} ms`);
}

const targets = [
  ['single-entity p99 at a fixed 1,000 reads/s (ghz) < 2 ms', ghz('ghz-b1-rate')?.p99, 2, rate === '1000'],
  ['single-entity p99 at a fixed 1,000 reads/s (node grpc-js) < 2 ms', read('grpc-b1-rate')?.p99, 2, rate === '1000'],
  ['ingest-to-online p99 < 1 s', fresh?.p99, 1000, fresh?.notVisible === 0],
  ['  (reference, not ours) gRPC floor p99 at the same rate (ghz) < 2 ms', ghz('ghz-floor-b1-rate')?.p99, 2, rate === '1000'],
];
console.log('\ntargets');
for (const [label, value, limit, valid] of targets) {
  if (value === undefined) continue;
  console.log(`  ${label}: ${f(value, 3)} ms ${valid === false ? '(not comparable: other rate or events missing)' : value < limit ? 'PASS' : 'FAIL'}`);
}
