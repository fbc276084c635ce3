// Preloads N entities through the real ingest path (benchmark, not a test): one
// data.validated event per entity (keys e0..e{N-1}, event time = now) produced to Kafka in
// batches, then waits (bounded) until the feature store applied them all (GET /stats), so
// every key is in the online store. Prints the apply throughput.
// usage: node preload.mjs --source S --entities N --url http://127.0.0.1:PORT --out file.json [--timeout 300]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { sleep } from './common.mjs';
import { message, producer, validated } from './events.mjs';

const { values: a } = parseArgs({
  options: { source: { type: 'string' }, entities: { type: 'string' }, url: { type: 'string' }, out: { type: 'string' }, timeout: { type: 'string', default: '300' } },
});
const n = Number(a.entities);
const stats = async () => (await fetch(`${a.url}/stats`)).json();
const before = (await stats()).applied;
const p = await producer('feature-store-bench-preload');
const started = Date.now();
for (let i = 0; i < n; i += 500) {
  const batch = [];
  for (let j = i; j < Math.min(n, i + 500); j++) {
    batch.push(message(validated(a.source, { user: `e${j}`, ts: Date.now(), amount: j % 100, page: `/p${j % 7}` })));
  }
  await p.send('data.validated', batch);
}
const produced = Date.now();
await p.close();
const deadline = started + Number(a.timeout) * 1000;
let applied = 0;
while (Date.now() < deadline) {
  applied = (await stats()).applied - before;
  if (applied >= n) break;
  await sleep(200);
}
const done = Date.now();
const result = { entities: n, applied, produceSeconds: (produced - started) / 1000, applySeconds: (done - started) / 1000, appliedPerSecond: applied / ((done - started) / 1000) };
writeFileSync(a.out, JSON.stringify(result));
console.error(`[bench] preload: ${applied}/${n} applied in ${result.applySeconds.toFixed(1)} s (${result.appliedPerSecond.toFixed(0)} events/s end to end, produce ${result.produceSeconds.toFixed(1)} s)`);
if (applied < n) process.exit(1);
