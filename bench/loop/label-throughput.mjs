// Label throughput through the monitor's real label.observed consumer on Kafka + Postgres (not a
// timed test): the monitoring service's production wiring (startMonitoring, BUS=kafka), N
// predictions logged first so every label joins one, then N labels published in chunks of 500;
// the clock runs from the first label published to the last one counted in the version's
// performance. Two modes in one run, each on its own consumer groups and tables:
//   per-label: MONITORING_LABEL_BATCH_MAX=1   (one Postgres transaction per label, as before)
//   batched:   MONITORING_LABEL_BATCH_MAX=500 (one transaction per batch of labels)
// Prints labels/s of both and their ratio, next to the ~225 labels/s the distributed e2e sends.
// usage: npm run build && set -a && source /tmp/mlops-local/env && set +a && node bench/loop/label-throughput.mjs
//        (LABELS=4000 ROUNDS=1 by default, VERBOSE=1 for progress, BASE_DIST=<other build's dist> to add it; needs KAFKA_BROKERS and DATABASE_URL=postgres://...)
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
const require = createRequire(import.meta.url);
const dist = (p) => require(resolve(import.meta.dirname, '../../dist', p));
const { createEventBus, KafkaAdminKit, startGroupsAtEnd } = dist('libs/bus/src/index.js');
const { createEvent } = dist('libs/contracts/src/index.js');
const current = dist('services/monitoring/src/index.js');
// BASE_DIST=<dir>: also measure another build's monitor (e.g. the code before batching, built elsewhere).
const base = process.env.BASE_DIST ? require(resolve(process.env.BASE_DIST, 'services/monitoring/src/index.js')) : undefined;
const { DataSource } = require('typeorm');

const N = Number(process.env.LABELS ?? 4_000);
const ROUNDS = Number(process.env.ROUNDS ?? 1);
const CHUNK = 500;
const E2E_RATE = 225;
const { KAFKA_BROKERS, DATABASE_URL } = process.env;
if (!KAFKA_BROKERS || !DATABASE_URL?.startsWith('postgres')) {
  console.error('needs KAFKA_BROKERS and a postgres:// DATABASE_URL (source /tmp/mlops-local/env)');
  process.exit(1);
}
const brokers = KAFKA_BROKERS.split(',');
const kafka = { clientId: 'label-bench', brokers, logLevel: 'nothing' };
const LIFECYCLE = ['dataset.materialized', 'training.completed', 'model.registered', 'deployment.completed', 'model.promoted', 'model.rolled_back'];

const verbose = (message) => process.env.VERBOSE && console.error(`${new Date().toISOString()} ${message}`);

async function waitUntil(check, what, timeoutMs = 240_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function measure(mode, batchMax, producer, { startMonitoring, loadMonitoringConfig }) {
  const run = randomUUID().slice(0, 8);
  const model = `label-bench-${run}`;
  const group = `label-bench-${run}`;
  const prefix = `lblbench_${run}`;
  const admin = new KafkaAdminKit(kafka);
  // New groups start at the end of the shared topics (other tests' history is not replayed);
  // missing topics are created.
  await startGroupsAtEnd(kafka, { [group]: ['prediction.logged'], [`${group}.labels`]: ['label.observed'], [`${group}.lifecycle`]: LIFECYCLE });
  verbose(`${mode}: groups at the end; starting the monitor`);
  const app = await startMonitoring(
    loadMonitoringConfig({
      BUS: 'kafka',
      KAFKA_BROKERS,
      DATABASE_URL,
      MONITORING_PORT: '0',
      MONITORING_GROUP: group,
      MONITORING_TABLE_PREFIX: prefix,
      MONITORING_LABEL_BATCH_MAX: String(batchMax),
      MONITORING_LABEL_PENDING_MAX: String(N * 2),
    }),
    { logger: false, defaultMetrics: false },
  );
  try {
    const ids = Array.from({ length: N }, (_, i) => `${model}-${i}`);
    for (let i = 0; i < N; i += CHUNK) {
      await producer.publish(
        ids.slice(i, i + CHUNK).map((predictionId, j) =>
          createEvent('prediction.logged', {
            source: 'bench',
            subject: model,
            data: { predictionId, model, version: 1, inputs: { x: j }, outputs: { label: j % 2, probabilities: [0.4, 0.6] }, latencyMs: 1 },
          }),
        ),
      );
    }
    verbose(`${mode}: predictions published`);
    await waitUntil(() => app.loop.pending.size >= N, `${N} predictions waiting for labels`);
    const labels = ids.map((predictionId, i) => createEvent('label.observed', { source: 'bench', subject: model, data: { predictionId, model, label: i % 3 === 0 ? 1 : 0 } }));
    const counted = async () => (await app.metrics.labels.get()).values.filter((v) => v.labels.model === model).reduce((s, v) => s + v.value, 0);
    const start = performance.now();
    for (let i = 0; i < N; i += CHUNK) await producer.publish(labels.slice(i, i + CHUNK));
    const published = performance.now();
    await waitUntil(async () => (await counted()) >= N, `${N} labels counted (${mode})`);
    const seconds = (performance.now() - start) / 1000;
    const stored = (await app.store.dataSource.query(`SELECT state FROM "${prefix}_performance" WHERE model = $1`, [model]))[0];
    const storedLabels = stored ? JSON.parse(stored.state).labels : 0;
    verbose(`${mode}: ${N} labels counted`);
    return { rate: N / seconds, seconds, publishSeconds: (published - start) / 1000, storedLabels };
  } finally {
    verbose(`${mode}: closing`);
    await app.close();
    const db = new DataSource({ type: 'postgres', url: DATABASE_URL });
    await db.initialize();
    for (const table of ['outbox', 'cooldowns', 'performance', 'canaries', 'champions', 'versions', 'runs', 'datasets', 'references', 'processed_events', 'migrations']) {
      await db.query(`DROP TABLE IF EXISTS "${prefix}_${table}"`);
    }
    await db.destroy();
    verbose(`${mode}: tables dropped`);
    await admin.deleteGroups([group, `${group}.labels`, `${group}.lifecycle`]).catch(() => undefined);
    await admin.close();
  }
}

const producer = createEventBus({ BUS: 'kafka', KAFKA_BROKERS: brokers, KAFKA_SSL: false }, { service: 'label-bench' });
const fmt = (x) => Math.round(x).toLocaleString('en-US');
const median = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const modes = [...(base ? [['base build', 1, base]] : []), ['per-label', 1, current], ['batched', 500, current]];
const results = Object.fromEntries(modes.map(([mode]) => [mode, []]));
try {
  for (let r = 0; r < ROUNDS; r++) {
    for (const [mode, batchMax, build] of modes) {
      const m = await measure(mode, batchMax, producer, build);
      results[mode].push(m);
      console.log(`  round ${r + 1} ${mode.padEnd(9)}: ${fmt(m.rate)} labels/s (${N} labels in ${m.seconds.toFixed(2)} s; published in ${m.publishSeconds.toFixed(2)} s; ${m.storedLabels} in the stored aggregate)`);
    }
  }
} finally {
  await producer.close();
}
const perLabel = median(results['per-label'].map((m) => m.rate));
const batched = median(results.batched.map((m) => m.rate));
console.log(`label throughput, monitoring's label.observed consumer on Kafka + Postgres, ${N.toLocaleString('en-US')} labels, median of ${ROUNDS} round(s)`);
if (base) console.log(`  base build (${process.env.BASE_DIST}): ${fmt(median(results['base build'].map((m) => m.rate)))} labels/s`);
console.log(`  per-label (MONITORING_LABEL_BATCH_MAX=1):  ${fmt(perLabel)} labels/s`);
console.log(`  batched   (MONITORING_LABEL_BATCH_MAX=500): ${fmt(batched)} labels/s`);
if (base) console.log(`  batched / base build: ${(batched / median(results['base build'].map((m) => m.rate))).toFixed(1)}`);
console.log(`  batched / per-label: ${(batched / perLabel).toFixed(1)}   batched / ${E2E_RATE} labels/s (e2e load): ${(batched / E2E_RATE).toFixed(1)}   per-label / ${E2E_RATE}: ${(perLabel / E2E_RATE).toFixed(2)}`);
