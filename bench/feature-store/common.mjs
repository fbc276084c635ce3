// Shared helpers of the feature store benchmark scripts (loopback clients, percentiles).
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const require = createRequire(import.meta.url);
export const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

export const ROOT = resolve(import.meta.dirname, '../..');

/** A GetOnlineFeatures client, loaded with the service's own proto-loader options. */
export function onlineClient(address) {
  const definition = protoLoader.loadSync(resolve(ROOT, 'proto/feature_store.proto'), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(definition);
  const client = new pkg.mlops.featurestore.v1.FeatureStoreService(address, grpc.credentials.createInsecure());
  const get = (view, keys) =>
    new Promise((ok, fail) => client.GetOnlineFeatures({ feature_view: view, entity_keys: keys }, (e, r) => (e ? fail(e) : ok(r))));
  return { client, get };
}

/** p-th percentile (0..100) of an ascending array, nearest rank. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function summarize(latenciesMs, seconds, extra = {}) {
  const sorted = Float64Array.from(latenciesMs).sort();
  return {
    count: sorted.length,
    rps: sorted.length / seconds,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
    ...extra,
  };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function env(name, fallback) {
  const v = process.env[name];
  return v === undefined || v === '' ? fallback : v;
}
