// One REST load point with autocannon: POST /v2/models/MODEL/infer with ROWS rows of 30 FP32
// features as JSON tensor data (the body tritonclient.http and KServe's REST client send), CONC
// connections, one request in flight on each, WARMUP seconds then SECONDS measured. Writes
// {rps, count, ok, errors, p50, p99} to OUT (latencies in ms).
// usage: node rest-load.mjs URL MODEL ROWS CONC SECONDS WARMUP OUT
import { writeFileSync } from 'node:fs';
import autocannon from 'autocannon';

const [url, model, rows, conc, seconds, warmup, out] = process.argv.slice(2);
if (!out) throw new Error('usage: node rest-load.mjs URL MODEL ROWS CONC SECONDS WARMUP OUT');
const features = 30;
const data = Array.from({ length: Number(rows) * features }, (_, i) => Math.round(Math.sin(i) * 1000) / 1000);
const body = JSON.stringify({ inputs: [{ name: 'input', shape: [Number(rows), features], datatype: 'FP32', data }] });
const run = (duration) =>
  autocannon({
    url: `${url}/v2/models/${model}/infer`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: Number(conc),
    pipelining: 1,
    duration,
  });

if (Number(warmup) > 0) await run(Number(warmup));
const r = await run(Number(seconds));
const ok = r['2xx'];
const result = { rps: ok / (r.duration || Number(seconds)), count: r.requests.sent, ok, errors: r.non2xx + r.errors + r.timeouts, p50: r.latency.p50, p99: r.latency.p99 };
writeFileSync(out, JSON.stringify(result));
console.error(`[bench] rest ${url} rows ${rows} conc ${conc}: ${result.rps.toFixed(0)} req/s, ${ok} ok, ${result.errors} errors`);
