// Waits (at most TIMEOUT_S, default 60) until a KServe v2 server on ADDRESS answers
// ServerReady with ready=true. Exit 0 when ready, 1 on timeout.
// usage: node wait-ready.mjs 127.0.0.1:PORT
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
const require = createRequire(import.meta.url);
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(resolve(import.meta.dirname, '../../proto/grpc_service.proto'), { keepCase: true }));
const client = new pkg.inference.GRPCInferenceService(process.argv[2], grpc.credentials.createInsecure());
const end = Date.now() + Number(process.env.TIMEOUT_S ?? 60) * 1000;
while (Date.now() < end) {
  const ready = await new Promise((ok) => client.ServerReady({}, { deadline: Date.now() + 1000 }, (e, r) => ok(!e && r?.ready)));
  if (ready) { client.close(); process.exit(0); }
  await new Promise((r) => setTimeout(r, 200));
}
console.error(`not ready: ${process.argv[2]}`);
process.exit(1);
