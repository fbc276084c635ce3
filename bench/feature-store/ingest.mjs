// Background ingestion during a read phase (benchmark, not a test): produces data.validated
// events of preloaded entities at --rate per second for --seconds, in small batches every
// ~50 ms, so the feature store's Kafka consumer (history rows, windowed aggregations,
// online writes) is busy on the same process while the reads are measured.
// usage: node ingest.mjs --source S --entities N --rate R --seconds T
import { parseArgs } from 'node:util';
import { sleep } from './common.mjs';
import { message, producer, validated } from './events.mjs';

const { values: a } = parseArgs({
  options: { source: { type: 'string' }, entities: { type: 'string' }, rate: { type: 'string', default: '200' }, seconds: { type: 'string', default: '12' } },
});
const entities = Number(a.entities);
const rate = Number(a.rate);
const p = await producer('feature-store-bench-ingest');
const origin = Date.now();
const until = origin + Number(a.seconds) * 1000;
let sent = 0;
while (Date.now() < until) {
  const due = Math.floor(((Date.now() - origin) / 1000) * rate);
  const batch = [];
  for (; sent < due; sent++) {
    const user = `e${(sent * 7919) % entities}`;
    batch.push(message(validated(a.source, { user, ts: Date.now(), amount: sent % 1000, page: '/ingest' })));
  }
  if (batch.length) await p.send('data.validated', batch);
  await sleep(50);
}
await p.close();
console.error(`[bench] ingest: ${sent} events in ${((Date.now() - origin) / 1000).toFixed(1)} s`);
