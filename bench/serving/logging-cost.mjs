// CPU cost of prediction logging per row (not a timed test): the same 100-row request
// (30 FP32 features, outputs label INT64 + probabilities FP32 [100,2], as the bench model)
// published to an in-process bus as one prediction.logged v2 event (a) through the zod
// reference, createEvent + JSON.stringify, and (b) the way PredictionLog does it,
// predictionMessage (the codec's base64 of the tensors, no zod pass).
// Reports process CPU time (user+system) per row, which other load on the machine disturbs
// less than wall time. (c) is (b) without the bus: what building the event costs alone.
// usage: npm run build && node bench/serving/logging-cost.mjs [ROUNDS]
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
const require = createRequire(import.meta.url);
const root = resolve(import.meta.dirname, '../..');
const { EventBus, InProcessTransport } = require(resolve(root, 'dist/libs/bus/src/index.js'));
const { predictionMessage, validatedPredictionEvent } = require(resolve(root, 'dist/services/serving/src/prediction-event.js'));

const rows = 100;
const rounds = Number(process.argv[2] ?? 300);
const batch = {
  model: 'm', version: 1, requestId: 'bench-100', latencyMs: 1.25,
  inputs: { input: { datatype: 'FP32', shape: [rows, 30], data: Float32Array.from({ length: rows * 30 }, (_, i) => Math.round(Math.sin(i) * 1000) / 1000) } },
  outputs: {
    label: { datatype: 'INT64', shape: [rows], data: new BigInt64Array(rows) },
    probabilities: { datatype: 'FP32', shape: [rows, 2], data: Float32Array.from({ length: rows * 2 }, (_, i) => (i % 2 ? 0.3 : 0.7)) },
  },
};

async function cpuPerRow(name, publishRequest) {
  const bus = new EventBus(new InProcessTransport());
  for (let i = 0; i < 50; i++) await publishRequest(bus);
  const start = process.cpuUsage();
  for (let i = 0; i < rounds; i++) await publishRequest(bus);
  const used = process.cpuUsage(start);
  const us = (used.user + used.system) / (rounds * rows);
  console.log(`  ${name.padEnd(58)} ${us.toFixed(2).padStart(7)} us CPU/row`);
  return us;
}

console.log(`prediction.logged CPU per row, ${rows}-row requests x ${rounds}, node ${process.version}`);
const all = Array.from({ length: rows }, (_, r) => r);
const old = await cpuPerRow('(a) createEvent (zod) + JSON.stringify, bus.publish', (bus) => bus.publish([validatedPredictionEvent(batch, all)]));
const now = await cpuPerRow('(b) predictionMessage, bus.publishMessages', (bus) => bus.publishMessages([predictionMessage(batch, all)]));
await cpuPerRow('(c) predictionMessage alone (building, no publish)', async () => void predictionMessage(batch, all));
console.log(`  (a)/(b): ${(old / now).toFixed(2)}x`);
