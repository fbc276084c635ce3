import type { GrpcSecurityEnv } from '@mlops/grpc';
import type { FeatureStoreConfig } from './feature-store.config';
import { findExampleViewsFile, loadFeatureViews, type FeatureView } from './views/feature-view';

/** What the feature store's parts read from the config, grouped by use case; made once at start. */
export interface FeatureStoreSettings {
  /** The feature views of FEATURE_VIEWS_FILE (the bundled example when unset). */
  views: { file: string; list: FeatureView[] };
  /** `all` consumes data.validated and retrain.requested; `serve` consumes nothing. */
  consumers: { enabled: boolean; group: string };
  online: { kind: 'memory' } | { kind: 'redis'; url: string; keyPrefix: string };
  offline: { windowCacheEntities: number };
  datasets: { artifactRoot: string };
  grpc: { host: string; port: number; maxMessageBytes: number; protoDir?: string; security: GrpcSecurityEnv };
}

/** Injection token of the FeatureStoreSettings. */
export const FEATURE_STORE_SETTINGS = Symbol('FeatureStoreSettings');

/** Injection token of the service's logger (silent when startFeatureStore is asked for no logs). */
export const FEATURE_STORE_LOG = Symbol('FeatureStoreLog');

export interface FeatureStoreLog {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Reads and validates the feature views file (InvalidFeatureViewsError names each bad field). */
export function featureStoreSettings(config: FeatureStoreConfig): FeatureStoreSettings {
  const file = config.FEATURE_VIEWS_FILE ?? findExampleViewsFile();
  return {
    views: { file, list: loadFeatureViews(file) },
    consumers: { enabled: config.FEATURE_STORE_ROLE === 'all', group: config.FEATURE_STORE_GROUP },
    online: config.ONLINE_STORE === 'memory' ? { kind: 'memory' } : { kind: 'redis', url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX },
    offline: { windowCacheEntities: config.FEATURE_STORE_WINDOW_CACHE_ENTITIES },
    datasets: { artifactRoot: config.FEATURE_STORE_ARTIFACT_ROOT },
    grpc: {
      host: config.FEATURE_STORE_GRPC_HOST,
      port: config.FEATURE_STORE_GRPC_PORT,
      maxMessageBytes: config.FEATURE_STORE_GRPC_MAX_MESSAGE_BYTES,
      protoDir: config.FEATURE_STORE_PROTO_DIR,
      security: config,
    },
  };
}
