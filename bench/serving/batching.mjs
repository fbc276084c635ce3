// Dynamic batching benchmark (not a timed test): N concurrent clients send single-row
// ModelInfer requests to the built server; compares SERVING_MAX_BATCH=1 (no batching) with
// the defaults. Prints throughput, p50/p99 latency and the ratio.
// usage: npm run build && node bench/serving/batching.mjs MODEL.onnx (FP32 [-1,30] input `input`)
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
const require = createRequire(import.meta.url);
const root = resolve(import.meta.dirname, '../..');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const { startServing } = require(resolve(root, 'dist/services/serving/src/serving.app.js'));
const { loadServingConfig } = require(resolve(root, 'dist/services/serving/src/serving.config.js'));

const model = process.argv[2];
const concurrency = Number(process.env.CONCURRENCY ?? 64);
const seconds = Number(process.env.SECONDS ?? 3);
const pkg = grpc.loadPackageDefinition(
  protoLoader.loadSync(resolve(root, 'proto/grpc_service.proto'), { keepCase: true, longs: String, defaults: true, oneofs: true }),
);

async function run(env) {
  const serving = await startServing(loadServingConfig({ SERVING_GRPC_PORT: '0', SERVING_MODELS: `m=${model}`, SERVING_LOG_SAMPLE_RATE: '0', ...env }), { logger: false });
  const client = new pkg.inference.GRPCInferenceService(serving.address, grpc.credentials.createInsecure());
  const raw = Buffer.from(new Float32Array(30).map((_, i) => i / 30).buffer);
  const request = { model_name: 'm', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 30] }], raw_input_contents: [raw] };
  const infer = () => new Promise((ok, fail) => client.ModelInfer(request, (e, r) => (e ? fail(e) : ok(r))));
  for (let i = 0; i < 200; i++) await infer();
  const latencies = [];
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await infer();
        latencies.push(performance.now() - t);
      }
    }),
  );
  const stats = serving.repository.resolve('m').batcher.stats;
  client.close();
  await serving.close();
  latencies.sort((a, b) => a - b);
  return {
    rps: latencies.length / seconds,
    p50: latencies[Math.floor(latencies.length * 0.5)],
    p99: latencies[Math.floor(latencies.length * 0.99)],
    rowsPerRun: stats.rows / stats.runs,
  };
}

const fmt = (r) => `${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, ${r.rowsPerRun.toFixed(1)} rows/run`;
const unbatched = await run({ SERVING_MAX_BATCH: '1' });
const batched = await run({});
console.log(`concurrency ${concurrency}, ${seconds}s each, 1 row per request`);
console.log(`  no batching (SERVING_MAX_BATCH=1): ${fmt(unbatched)}`);
console.log(`  dynamic batching (defaults):       ${fmt(batched)}`);
console.log(`  throughput ratio batched/unbatched: ${(batched.rps / unbatched.rps).toFixed(2)}x`);
