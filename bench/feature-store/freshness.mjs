// Ingest-to-online freshness (benchmark, not a test). A kafkajs producer in this process
// sends --events data.validated events at --rate per second, one at a time, each a new
// value (unique amount, event time = now) of a preloaded entity; a poller in the same
// process asks GetOnlineFeatures every ~1 ms for all keys still pending, and an event
// counts as visible when its entity's online row has its event time and amount. Latency =
// reply that first shows it minus the start of the producer's send (acks=-1 included).
// Bounded: stops after the last event is visible or --timeout seconds.
// usage: node freshness.mjs --address host:port --view V --source S --entities N --events M --rate R --out file.json
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { onlineClient, sleep, summarize } from './common.mjs';
import { message, producer, validated } from './events.mjs';

const { values: a } = parseArgs({
  options: {
    address: { type: 'string' },
    view: { type: 'string' },
    source: { type: 'string' },
    entities: { type: 'string' },
    events: { type: 'string', default: '300' },
    rate: { type: 'string', default: '20' },
    timeout: { type: 'string', default: '120' },
    out: { type: 'string' },
  },
});
const total = Number(a.events);
const { client, get } = onlineClient(a.address);
const p = await producer('feature-store-bench-freshness');
/** entity key -> the event awaited on it ({ ts, amount, sentAt }) */
const pending = new Map();
const latencies = [];
let sent = 0;
let polling = true;
const deadline = Date.now() + Number(a.timeout) * 1000;

const poller = (async () => {
  while (polling && Date.now() < deadline) {
    const keys = [...pending.keys()];
    if (keys.length === 0) {
      await sleep(1);
      continue;
    }
    const reply = await get(a.view, keys);
    const now = performance.now();
    reply.results.forEach((r, i) => {
      const want = pending.get(keys[i]);
      if (!want || r.status !== 'PRESENT') return;
      if (r.event_time === new Date(want.ts).toISOString() && r.values.last_amount?.number_value === want.amount) {
        latencies.push(now - want.sentAt);
        pending.delete(keys[i]);
      }
    });
    await sleep(1);
  }
})();

const origin = Date.now();
for (let i = 0; i < total && Date.now() < deadline; i++) {
  const wait = origin + (i * 1000) / Number(a.rate) - Date.now();
  if (wait > 0) await sleep(wait);
  // A different entity each time, never one still pending.
  const user = `e${(i * 7919) % Number(a.entities)}`;
  if (pending.has(user)) continue;
  const ts = Date.now();
  const amount = 1_000_000 + i;
  const sentAt = performance.now();
  pending.set(user, { ts, amount, sentAt });
  await p.send('data.validated', [message(validated(a.source, { user, ts, amount, page: '/fresh' }))]);
  sent++;
}
while (pending.size > 0 && Date.now() < deadline) await sleep(10);
polling = false;
await poller;
await p.close();
client.close();
const result = summarize(latencies, (Date.now() - origin) / 1000, { sent, visible: latencies.length, notVisible: pending.size, rate: Number(a.rate) });
writeFileSync(a.out, JSON.stringify(result));
console.error(`[bench] freshness: ${result.visible}/${sent} visible, p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms, max ${result.max.toFixed(1)} ms`);
