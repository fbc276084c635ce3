// Online read load from its own process (benchmark, not a test). Same loop for two targets:
//   --target grpc   GetOnlineFeatures on our server (what a model server calls)
//   --target redis  the floor: a bare ioredis pipeline of HMGET t v per key on the same keys
//                   the Redis online store reads (no JSON parsing, no gRPC, no service code)
// Closed loop: --concurrency callers, each sends its next call when the previous returns.
// Fixed rate (--rps R): calls are started on a schedule, R per second, whatever the replies
// do (open loop, checked every ~1 ms); latency counts from each call's start.
// Bounded by --seconds after --warmup seconds (warm-up calls are not counted).
// usage: node load.mjs --target grpc|redis --address host:port|redis://... --view V --prefix P
//          --entities N --batch B [--concurrency C] [--rps R] --seconds S --warmup W --out file.json
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { onlineClient, sleep, summarize } from './common.mjs';

const { values: a } = parseArgs({
  options: {
    target: { type: 'string' },
    address: { type: 'string' },
    view: { type: 'string' },
    prefix: { type: 'string', default: 'fs' },
    entities: { type: 'string' },
    batch: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '8' },
    rps: { type: 'string' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    out: { type: 'string' },
  },
});
const entities = Number(a.entities);
const batch = Number(a.batch);
const seconds = Number(a.seconds);
const warmup = Number(a.warmup);
const keysOf = () => Array.from({ length: batch }, () => `e${Math.floor(Math.random() * entities)}`);

let call;
let close;
let check;
if (a.target === 'grpc') {
  const { client, get } = onlineClient(a.address);
  call = (keys) => get(a.view, keys);
  check = (r, keys) => r.results.length === keys.length && r.results.every((x) => x.status === 'PRESENT');
  close = () => client.close();
} else if (a.target === 'redis') {
  const Redis = createRequire(import.meta.url)('ioredis');
  const redis = new Redis(a.address, { maxRetriesPerRequest: 3 });
  call = async (keys) => {
    const pipeline = redis.pipeline();
    for (const k of keys) pipeline.hmget(`${a.prefix}:${a.view}:${k}`, 't', 'v');
    return pipeline.exec();
  };
  check = (r, keys) => r.length === keys.length && r.every(([e, v]) => !e && v[0] !== null);
  close = () => redis.quit();
} else {
  throw new Error('--target must be grpc or redis');
}

const latencies = [];
let errors = 0;
let missing = 0;
let measuring = false;
const one = async (startedNs) => {
  const keys = keysOf();
  try {
    const r = await call(keys);
    if (measuring && !check(r, keys)) missing++;
    if (measuring) latencies.push(Number(process.hrtime.bigint() - startedNs) / 1e6);
  } catch {
    if (measuring) errors++;
  }
};

async function closedLoop(untilMs) {
  const concurrency = Number(a.concurrency);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < untilMs) await one(process.hrtime.bigint());
    }),
  );
}

async function fixedRate(untilMs) {
  const rps = Number(a.rps);
  const inFlight = new Set();
  const origin = Date.now();
  let sent = 0;
  while (Date.now() < untilMs) {
    // Every tick (~1 ms, timer granularity) starts the calls that are due by now.
    const due = Math.floor(((Date.now() - origin) / 1000) * rps);
    for (; sent < due; sent++) {
      if (inFlight.size >= 2_000) { if (measuring) errors++; continue; } // a stuck server: count, never queue without bound
      const p = one(process.hrtime.bigint()).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await sleep(1);
  }
  await Promise.all(inFlight);
}

const run = a.rps ? fixedRate : closedLoop;
await run(Date.now() + warmup * 1000);
measuring = true;
const started = Date.now();
await run(started + seconds * 1000);
const elapsed = (Date.now() - started) / 1000;
await close();
const result = summarize(latencies, elapsed, {
  target: a.target,
  batch,
  concurrency: a.rps ? undefined : Number(a.concurrency),
  targetRps: a.rps ? Number(a.rps) : undefined,
  errors,
  missing,
});
writeFileSync(a.out, JSON.stringify(result));
console.error(`[bench] ${a.target} batch ${batch} ${a.rps ? `rate ${a.rps}/s` : `c=${a.concurrency}`}: ${result.rps.toFixed(0)} calls/s, p50 ${result.p50.toFixed(3)} ms, p99 ${result.p99.toFixed(3)} ms, errors ${errors}, missing ${missing}`);
