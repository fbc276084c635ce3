// CPU µs per ModelInfer call spent by our handler, in-process, without sockets: the same
// protobuf decode/encode the gRPC server does (proto-loader's serializers), with and without
// our handler in between (the canned-response path is the echo server's share of the work).
// CPU time, not wall time, so other load on the machine disturbs it less than the ghz runs
// (it still moves by ±20 % on a busy machine: compare builds within one session, repeatedly).
// Not the socket's arrival pattern: a new call starts every event-loop turn, so the batcher's
// sub-millisecond delay never sees a quiet turn and always runs to its end here; use it to
// compare logging/tracing/decoding costs, and ghz (run.sh) for the batcher.
// usage: npm run build && taskset -c 0 node bench/serving/handler-cost.mjs MODEL.onnx [ROWS=1] [CALLS=20000] [INFLIGHT=32]
//   DIST=<dir holding services/ and libs/> (default dist/), SERVING_LOG_SAMPLE_RATE (default 1),
//   TRACING=0 skips starting the OpenTelemetry SDK (runService starts it in production)
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
const require = createRequire(import.meta.url);
const root = resolve(import.meta.dirname, '../..');
const dist = resolve(process.env.DIST ?? resolve(root, 'dist'));
const [modelPath, rowsArg = '1', callsArg = '20000', inflightArg = '32'] = process.argv.slice(2);
if (!modelPath) throw new Error('usage: node handler-cost.mjs MODEL.onnx [ROWS] [CALLS] [INFLIGHT]');
const [rows, calls, inflight] = [Number(rowsArg), Number(callsArg), Number(inflightArg)];

const grpc = require('@grpc/grpc-js');
const telemetry = process.env.TRACING === '0' ? undefined : require(`${dist}/libs/telemetry/src`).startTelemetry('serving-bench', {});
const { createEventBus } = require(`${dist}/libs/bus/src`);
const { createGrpcMetrics, createMetricsRegistry, instrumentGrpcService } = require(`${dist}/libs/metrics/src`);
const { inferenceHandlers, loadInferenceService } = require(`${dist}/services/serving/src/grpc-server.js`);
const { ModelRepository } = require(`${dist}/services/serving/src/model-repository.js`);
const { PredictionLog } = require(`${dist}/services/serving/src/prediction-log.js`);
const { InferenceService } = require(`${dist}/services/serving/src/inference.service.js`);
const { ModelStatistics } = require(`${dist}/services/serving/src/model-statistics.js`);
const { loadServingConfig } = require(`${dist}/services/serving/src/serving.config.js`);

const config = loadServingConfig({ SERVING_MODELS: `m=${modelPath}`, SERVING_GRPC_PORT: '0', ...process.env });
const service = loadInferenceService(resolve(root, 'proto'));
const infer = service.ModelInfer;
const repository = new ModelRepository({ maxBatch: config.SERVING_MAX_BATCH, delayUs: config.SERVING_BATCH_DELAY_US }, { intraOpThreads: config.SERVING_INTRA_OP_THREADS });
await repository.load('m', 1, modelPath, { warm: true });
const bus = createEventBus({ ...config, BUS: 'in-process' }, { service: 'serving', logger: { log() {}, warn() {}, error() {} } });
const predictions = new PredictionLog(bus, { sampleRate: config.SERVING_LOG_SAMPLE_RATE, capacity: config.SERVING_LOG_BUFFER });
const handlers = instrumentGrpcService(createGrpcMetrics(createMetricsRegistry({ service: 'serving' })), service, inferenceHandlers(new InferenceService(repository, predictions, new ModelStatistics()), repository, { name: 's', version: '0', ready: () => true }));

const features = 30;
const body = infer.requestSerialize({
  model_name: 'm',
  id: `bench-${rows}`,
  inputs: [{ name: 'input', datatype: 'FP32', shape: [rows, features], contents: { fp32_contents: Array.from({ length: rows * features }, (_, i) => Math.round(Math.sin(i) * 1000) / 1000) } }],
});
const canned = {
  model_name: 'm', model_version: '1', id: '', parameters: { model_version: { string_param: '1' }, route: { string_param: 'stable' } },
  outputs: [
    { name: 'label', datatype: 'INT64', shape: [rows], contents: { int64_contents: Array.from({ length: rows }, (_, i) => String(i % 2)) } },
    { name: 'probabilities', datatype: 'FP32', shape: [rows, 2], contents: { fp32_contents: Array.from({ length: rows * 2 }, (_, i) => (i % 2 ? 0.25 : 0.75)) } },
  ],
  raw_output_contents: [],
};

/** Runs `calls` calls keeping `inflight` outstanding; returns CPU µs per call. */
async function measure(call) {
  let started = 0;
  let done = 0;
  const before = process.cpuUsage();
  await new Promise((finish) => {
    const next = () => {
      if (done === calls) return finish();
      if (started === calls) return;
      started++;
      call(() => {
        done++;
        setImmediate(next);
      });
    };
    for (let i = 0; i < inflight; i++) next();
  });
  await predictions.flush();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / calls;
}

const floor = (done) => {
  const request = infer.requestDeserialize(body);
  infer.responseSerialize({ ...canned, id: request.id });
  done();
};
const ours = (done) => {
  const request = infer.requestDeserialize(body);
  handlers.ModelInfer({ request, metadata: new grpc.Metadata() }, (error, response) => {
    if (error) throw new Error(error.details);
    infer.responseSerialize(response);
    done();
  });
};
for (let round = 0; round < 2; round++) {
  const f = await measure(floor);
  const o = await measure(ours);
  console.log(`rows ${rows} inflight ${inflight} calls ${calls} log ${config.SERVING_LOG_SAMPLE_RATE} delay ${config.SERVING_BATCH_DELAY_US}us tracing ${telemetry ? 'on' : 'off'}: decode+encode ${f.toFixed(1)} us CPU/call, ours ${o.toFixed(1)} us CPU/call, handler ${(o - f).toFixed(1)} us`);
}
await repository.close();
await bus.close();
await telemetry?.shutdown();
