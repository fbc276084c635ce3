import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessTransport } from '@mlops/bus';
import { loadFeatureStoreConfig, startFeatureStore } from '@mlops/service-feature-store';
import { loadIngestionConfig, startIngestion } from '@mlops/service-ingestion';
import { loadLoopConfig, startLoop } from '@mlops/service-loop';
import { loadMonitoringConfig, startMonitoring } from '@mlops/service-monitoring';
import { loadRegistryConfig, startRegistry } from '@mlops/service-registry';
import { loadServingConfig, startServing } from '@mlops/service-serving';
import { loadTrackingConfig, startTracking } from '@mlops/service-tracking';
import { loadTrainerConfig, startTrainer } from '@mlops/service-trainer';

/** One service's HTTP API, started alone on loopback with SQLite and the in-process bus. */
export interface RunningHttpService {
  name: string;
  url: string;
  close(): Promise<void>;
}

type Starter = (dir: string, transport: InProcessTransport) => Promise<{ url: string; close(): Promise<void> }>;

const quiet = (transport: InProcessTransport) => ({ inProcess: transport, logger: false as const });
const sqlite = (dir: string, name: string) => `sqlite:${join(dir, `${name}.db`)}`;

/** Every service with an HTTP API, by the name of its folder under services/ (and its document). */
export const HTTP_SERVICES: Record<string, Starter> = {
  ingestion: (dir, t) => startIngestion(loadIngestionConfig({ BUS: 'in-process', DATABASE_URL: sqlite(dir, 'ingestion'), INGESTION_PORT: '0' }), quiet(t)),
  'feature-store': (dir, t) =>
    startFeatureStore(
      loadFeatureStoreConfig({
        BUS: 'in-process',
        DATABASE_URL: sqlite(dir, 'feature-store'),
        FEATURE_STORE_ARTIFACT_ROOT: join(dir, 'datasets'),
        FEATURE_STORE_HTTP_PORT: '0',
        FEATURE_STORE_GRPC_PORT: '0',
      }),
      quiet(t),
    ),
  tracking: (dir, t) =>
    startTracking(
      loadTrackingConfig({ BUS: 'in-process', DATABASE_URL: sqlite(dir, 'tracking'), TRACKING_PORT: '0', TRACKING_ARTIFACT_ROOT: join(dir, 'artifacts') }),
      quiet(t),
    ),
  trainer: (dir, t) => startTrainer(loadTrainerConfig({ BUS: 'in-process', TRAINER_PORT: '0', TRAINER_ARTIFACT_ROOT: join(dir, 'models') }), quiet(t)),
  registry: (dir, t) =>
    startRegistry(
      loadRegistryConfig({ BUS: 'in-process', DATABASE_URL: sqlite(dir, 'registry'), REGISTRY_PORT: '0', REGISTRY_ARTIFACT_ROOT: join(dir, 'registry') }),
      quiet(t),
    ),
  // No model loaded: every model route answers its protocol's 404.
  serving: async (_dir, t) => {
    const serving = await startServing(loadServingConfig({ BUS: 'in-process', SERVING_GRPC_PORT: '0', SERVING_HTTP_PORT: '0', SERVING_HTTP_HOST: '127.0.0.1' }), {
      inProcess: t,
      logger: false,
    });
    return { url: `http://127.0.0.1:${serving.httpPort}`, close: () => serving.close() };
  },
  monitoring: (dir, t) =>
    startMonitoring(loadMonitoringConfig({ BUS: 'in-process', DATABASE_URL: sqlite(dir, 'monitoring'), MONITORING_PORT: '0' }), {
      ...quiet(t),
      defaultMetrics: false,
    }),
  loop: (dir, t) =>
    startLoop(loadLoopConfig({ BUS: 'in-process', DATABASE_URL: sqlite(dir, 'loop'), LOOP_PORT: '0' }), { ...quiet(t), defaultMetrics: false }),
};

export async function startHttpService(name: string): Promise<RunningHttpService> {
  const start = HTTP_SERVICES[name];
  if (!start) throw new Error(`no HTTP service "${name}" (known: ${Object.keys(HTTP_SERVICES).join(', ')})`);
  const dir = mkdtempSync(join(tmpdir(), `openapi-${name}-`));
  const app = await start(dir, new InProcessTransport());
  return {
    name,
    url: app.url,
    close: async () => {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
