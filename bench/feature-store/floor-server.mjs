// The gRPC floor (benchmark, not a test): a bare @grpc/grpc-js server of the same proto and
// method, whose handler does only what a GetOnlineFeatures read of one view cannot avoid: a
// bare ioredis pipeline of HMGET t v per key (the keys the Redis online store reads), JSON
// values decoded, the same response shape. No validation, metrics, service or Kafka
// consumer. Measured by the same load generators, on the same cpu, as the feature store, it
// is what "ours" is compared with: gRPC + Redis + Node on this machine, without our code.
// Prints its event-loop delay (perf_hooks, 1 ms resolution) on SIGTERM.
// usage: node floor-server.mjs --port P --redis redis://... --prefix P --view V --out file.json
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { grpc, ROOT } from './common.mjs';

const require = createRequire(import.meta.url);
const protoLoader = require('@grpc/proto-loader');
const Redis = require('ioredis');

const { values: a } = parseArgs({
  options: { port: { type: 'string' }, redis: { type: 'string' }, prefix: { type: 'string' }, view: { type: 'string' }, out: { type: 'string' } },
});
const definition = protoLoader.loadSync(resolve(ROOT, 'proto/feature_store.proto'), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
const service = grpc.loadPackageDefinition(definition).mlops.featurestore.v1.FeatureStoreService.service;
const redis = new Redis(a.redis, { maxRetriesPerRequest: 3 });
const toValue = (v) => (v === null ? { null_value: true } : typeof v === 'number' ? { number_value: v } : typeof v === 'boolean' ? { bool_value: v } : { string_value: v });

const server = new grpc.Server();
server.addService(service, {
  GetOnlineFeatures(call, callback) {
    const { feature_view: view, entity_keys: keys } = call.request;
    const pipeline = redis.pipeline();
    for (const k of keys) pipeline.hmget(`${a.prefix}:${view}:${k}`, 't', 'v');
    pipeline.exec().then(
      (rows) => {
        const results = rows.map(([, [t, v]], i) => {
          if (t === null) return { entity_key: keys[i], status: 'NOT_FOUND', values: {}, event_time: '' };
          const values = {};
          for (const [name, value] of Object.entries(JSON.parse(v))) values[name] = toValue(value);
          return { entity_key: keys[i], status: 'PRESENT', values, event_time: new Date(Number(t)).toISOString() };
        });
        callback(null, { feature_view: view, feature_names: [], results });
      },
      (error) => callback({ code: grpc.status.INTERNAL, details: error.message }),
    );
  },
});
const delay = monitorEventLoopDelay({ resolution: 1 });
server.bindAsync(`127.0.0.1:${a.port}`, grpc.ServerCredentials.createInsecure(), (error) => {
  if (error) throw error;
  delay.enable();
  console.error(`[bench] floor gRPC server on 127.0.0.1:${a.port}`);
});
process.once('SIGTERM', () => {
  const ms = (ns) => ns / 1e6;
  writeFileSync(a.out, JSON.stringify({ p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max), count: delay.count }));
  server.forceShutdown();
  redis.disconnect();
  process.exit(0);
});
