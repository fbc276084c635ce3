import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessTransport } from '@mlops/bus';
import { startFeatureStore } from '../../services/feature-store/src/feature-store.app';
import { loadFeatureStoreConfig } from '../../services/feature-store/src/feature-store.config';
import { startIngestion } from '../../services/ingestion/src/ingestion.app';
import { loadIngestionConfig } from '../../services/ingestion/src/ingestion.config';
import { startMonitoring } from '../../services/monitoring/src/monitoring.app';
import { loadMonitoringConfig } from '../../services/monitoring/src/monitoring.config';
import { startRegistry } from '../../services/registry/src/registry.app';
import { loadRegistryConfig } from '../../services/registry/src/registry.config';
import { startTracking } from '../../services/tracking/src/tracking.app';
import { loadTrackingConfig } from '../../services/tracking/src/tracking.config';
import { startTrainer } from '../../services/trainer/src/trainer.app';
import { loadTrainerConfig } from '../../services/trainer/src/trainer.config';

const VIEWS = `
featureViews:
  - name: user_clicks
    source: clicks
    entityKey: user
    timestampField: ts
    features:
      - { name: last_amount, field: amount, type: number }
`;

interface Case {
  service: string;
  /** The limit as the setting says it, in bytes. */
  limitBytes: number;
  start(dir: string): Promise<{ url: string; close(): Promise<void> }>;
  /** A request whose body is over the limit. */
  request: { method: string; path: string; contentType: string; body: string | Buffer };
  /** A read that shows the request changed nothing: it must answer this status. */
  unchanged: { path: string; status: number; body?: unknown };
}

const common = { DATABASE_URL: 'sqlite::memory:' };
const quiet = (transport: InProcessTransport) => ({ inProcess: transport, logger: false });
const json = (value: unknown) => JSON.stringify(value);

const cases: Case[] = [
  {
    service: 'ingestion (INGESTION_BODY_LIMIT)',
    limitBytes: 1024,
    start: () => startIngestion(loadIngestionConfig({ ...common, INGESTION_PORT: '0', INGESTION_BODY_LIMIT: '1kb' }), quiet(new InProcessTransport())),
    request: { method: 'PUT', path: '/sources/big/contract', contentType: 'application/json', body: json({ fields: { a: { type: 'string', description: 'x'.repeat(4_000) } } }) },
    unchanged: { path: '/sources/big/contract', status: 404 },
  },
  {
    service: 'tracking (TRACKING_BODY_LIMIT)',
    limitBytes: 1024,
    start: (dir) =>
      startTracking(loadTrackingConfig({ ...common, TRACKING_PORT: '0', TRACKING_ARTIFACT_ROOT: dir, TRACKING_BODY_LIMIT: '1kb' }), quiet(new InProcessTransport())),
    request: { method: 'POST', path: '/api/2.0/mlflow/experiments/create', contentType: 'application/json', body: json({ name: 'big', tags: [{ key: 'k', value: 'x'.repeat(4_000) }] }) },
    unchanged: { path: '/api/2.0/mlflow/experiments/get-by-name?experiment_name=big', status: 404 },
  },
  {
    service: 'registry, JSON API (fixed 1mb)',
    limitBytes: 1024 * 1024,
    start: (dir) => startRegistry(loadRegistryConfig({ ...common, REGISTRY_PORT: '0', REGISTRY_ARTIFACT_ROOT: dir }), quiet(new InProcessTransport())),
    request: { method: 'POST', path: '/api/2.0/mlflow/registered-models/create', contentType: 'application/json', body: json({ name: 'big', description: 'x'.repeat(1_100_000) }) },
    unchanged: { path: '/api/2.0/mlflow/registered-models/get?name=big', status: 404 },
  },
  {
    service: 'registry, model upload (REGISTRY_BODY_LIMIT)',
    limitBytes: 1024,
    start: (dir) =>
      startRegistry(loadRegistryConfig({ ...common, REGISTRY_PORT: '0', REGISTRY_ARTIFACT_ROOT: dir, REGISTRY_BODY_LIMIT: '1kb' }), quiet(new InProcessTransport())),
    request: { method: 'POST', path: '/models/big/versions', contentType: 'application/octet-stream', body: Buffer.alloc(4_000, 1) },
    unchanged: { path: '/models/big/versions/1', status: 404 },
  },
  {
    service: 'monitoring (MONITORING_BODY_LIMIT)',
    limitBytes: 1024,
    start: () =>
      startMonitoring(loadMonitoringConfig({ ...common, MONITORING_PORT: '0', MONITORING_BODY_LIMIT: '1kb' }), { ...quiet(new InProcessTransport()), defaultMetrics: false }),
    request: { method: 'PUT', path: '/models/big/versions/1/reference', contentType: 'application/json', body: json({ features: { f0: Array.from({ length: 1_000 }, (_, i) => i) } }) },
    unchanged: { path: '/models/big/versions/1/reference', status: 404 },
  },
  {
    service: 'feature store (FEATURE_STORE_BODY_LIMIT)',
    limitBytes: 1024,
    start: (dir) => {
      writeFileSync(join(dir, 'views.yaml'), VIEWS);
      return startFeatureStore(
        loadFeatureStoreConfig({
          ...common,
          FEATURE_STORE_HTTP_PORT: '0',
          FEATURE_STORE_GRPC_PORT: '0',
          FEATURE_VIEWS_FILE: join(dir, 'views.yaml'),
          FEATURE_STORE_ARTIFACT_ROOT: join(dir, 'datasets'),
          FEATURE_STORE_BODY_LIMIT: '1kb',
        }),
        quiet(new InProcessTransport()),
      );
    },
    request: { method: 'POST', path: '/datasets', contentType: 'application/json', body: json({ featureView: 'user_clicks', entities: Array.from({ length: 100 }, (_, i) => ({ user: `u${i}`, ts: 0 })) }) },
    unchanged: { path: '/datasets/user_clicks/1', status: 404 },
  },
  {
    service: "trainer (Nest's default 100kb)",
    limitBytes: 100 * 1024,
    start: (dir) =>
      startTrainer(loadTrainerConfig({ TRAINER_PORT: '0', TRAINER_ARTIFACT_ROOT: join(dir, 'models'), TRAINER_TARGET: 'label', CODE_VERSION: 'abc123' }), quiet(new InProcessTransport())),
    request: { method: 'POST', path: '/jobs', contentType: 'application/json', body: json({ model: 'big', datasetUri: `file:///${'x'.repeat(200_000)}` }) },
    unchanged: { path: '/jobs', status: 200, body: { jobs: [] } },
  },
];

/**
 * Every HTTP service refuses a body over its limit before any handler runs: 413 with the
 * MLflow-shaped error naming the limit, and nothing changed.
 */
describe.each(cases)('body limit: $service', ({ limitBytes, start, request, unchanged }) => {
  let dir: string;
  let app: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'body-limit-'));
    app = await start(dir);
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers an over-limit body with 413 REQUEST_LIMIT_EXCEEDED naming the limit, and changes nothing', async () => {
    const response = await fetch(`${app.url}${request.path}`, { method: request.method, headers: { 'content-type': request.contentType }, body: request.body });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      error_code: 'REQUEST_LIMIT_EXCEEDED',
      message: `request body of ${Buffer.byteLength(request.body)} bytes is over the ${limitBytes}-byte limit`,
    });
    const after = await fetch(`${app.url}${unchanged.path}`);
    expect(after.status).toBe(unchanged.status);
    if (unchanged.body !== undefined) expect(await after.json()).toEqual(unchanged.body);
  });
});
