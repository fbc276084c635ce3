// Readiness probe of the serving service: calls KServe v2 ServerReady over gRPC and exits 0
// when it answers ready=true. Kubernetes' native gRPC probe needs grpc.health.v1.Health,
// which serving does not implement, hence this exec probe.
// Usage: node kserve-ready.js 127.0.0.1:8001
'use strict';
const grpc = require('@grpc/grpc-js');

const target = process.argv[2] || '127.0.0.1:8001';
const identity = (buffer) => buffer;
const Client = grpc.makeGenericClientConstructor(
  {
    ServerReady: {
      path: '/inference.GRPCInferenceService/ServerReady',
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  },
  'GRPCInferenceService',
);
const client = new Client(target, grpc.credentials.createInsecure());
// ServerReadyRequest is empty; ServerReadyResponse is `bool ready = 1`, so ready=true is the
// two bytes 0x08 0x01 on the wire.
client.ServerReady(Buffer.alloc(0), { deadline: Date.now() + 4000 }, (error, response) => {
  client.close();
  if (error) {
    console.error(`${target}: ${error.message}`);
    process.exit(1);
  }
  const ready = response.length >= 2 && response[0] === 0x08 && response[1] === 0x01;
  if (!ready) console.error(`${target}: server not ready`);
  process.exit(ready ? 0 : 1);
});
