// The gRPC floor: a bare @grpc/grpc-js server on the same proto (same proto-loader options as
// services/serving) whose ModelInfer answers a canned response of the shape ours returns for
// the 30-feature LogisticRegression: `label` INT64 [rows] and `probabilities` FP32 [rows,2]
// in typed contents, plus model_version/parameters. No model, no batching, no logging.
// usage: node echo-server.mjs PORT [WORKERS]   (binds 127.0.0.1 only; prints "listening PORT" when ready)
// WORKERS > 1: that many processes share the port through node:cluster, as SERVING_WORKERS does
// for ours (the primary hands out connections round-robin), so both sides get the same processes.
import cluster from 'node:cluster';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
const require = createRequire(import.meta.url);
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const root = resolve(import.meta.dirname, '../..');
const pkg = grpc.loadPackageDefinition(
  protoLoader.loadSync(resolve(root, 'proto/grpc_service.proto'), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true }),
);
const canned = new Map();
function responseFor(request) {
  const rows = Number(request.inputs?.[0]?.shape?.[0] ?? 1);
  let r = canned.get(rows);
  if (!r) {
    r = {
      model_name: request.model_name,
      model_version: '1',
      id: '',
      parameters: { model_version: { string_param: '1' }, route: { string_param: 'stable' } },
      outputs: [
        { name: 'label', datatype: 'INT64', shape: [rows], contents: { int64_contents: Array.from({ length: rows }, (_, i) => String(i % 2)) } },
        { name: 'probabilities', datatype: 'FP32', shape: [rows, 2], contents: { fp32_contents: Array.from({ length: rows * 2 }, (_, i) => (i % 2 ? 0.25 : 0.75)) } },
      ],
      raw_output_contents: [],
    };
    canned.set(rows, r);
  }
  return { ...r, id: request.id ?? '' };
}
const workers = Number(process.argv[3] ?? 1);
if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  const stopAll = () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    setTimeout(() => process.exit(0), 2_000).unref();
  };
  process.once('SIGTERM', stopAll);
  process.once('SIGINT', stopAll);
} else serve();

function serve() {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024, 'grpc.max_send_message_length': -1 });
  server.addService(pkg.inference.GRPCInferenceService.service, {
    ServerLive: (_c, cb) => cb(null, { live: true }),
    ServerReady: (_c, cb) => cb(null, { ready: true }),
    ModelInfer: (call, cb) => cb(null, responseFor(call.request)),
  });
  server.bindAsync(`127.0.0.1:${Number(process.argv[2] ?? 0)}`, grpc.ServerCredentials.createInsecure(), (error, port) => {
    if (error) throw error;
    console.log(`listening ${port}`);
  });
  const stop = () => server.tryShutdown(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
