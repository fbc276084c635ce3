import type { ReleasePolicy } from './policy/release-policy';
import type { RegistryConfig } from './registry.config';

/** What the registry's parts read from the config, grouped by use case; made once at start. */
export interface RegistrySettings {
  /** The content-addressed store, and the directories `model-versions/create` may read a `source` from. */
  artifacts: { root: string; importRoots: string[] };
  /** The quality gate: the metric, its direction and tolerance, and the optional holdout. */
  gate: { metric: string; lowerIsBetter: string[]; tolerance: number; holdoutPath?: string; defaultPolicy: ReleasePolicy };
  /** `canaryShare` of the deployment.requested a passing candidate gets. */
  deployment: { canaryShare: number };
  /** The consumer group of training.completed; canary verdicts read in `<group>.canary`. */
  consumers: { group: string };
  /** REGISTRY_TRACKING_URI: where `runs:/`, `models:/<model_id>` and `mlflow-artifacts:/` sources are read from. */
  tracking: { uri?: string };
}

/** Injection token of the RegistrySettings. */
export const REGISTRY_SETTINGS = Symbol('RegistrySettings');

export function registrySettings(config: RegistryConfig): RegistrySettings {
  return {
    artifacts: { root: config.REGISTRY_ARTIFACT_ROOT, importRoots: config.REGISTRY_IMPORT_ROOTS },
    gate: {
      metric: config.REGISTRY_GATE_METRIC,
      lowerIsBetter: config.REGISTRY_LOWER_IS_BETTER,
      tolerance: config.REGISTRY_GATE_TOLERANCE,
      holdoutPath: config.REGISTRY_HOLDOUT_PATH,
      defaultPolicy: config.REGISTRY_RELEASE_POLICY,
    },
    deployment: { canaryShare: config.REGISTRY_CANARY_SHARE },
    consumers: { group: config.REGISTRY_GROUP },
    tracking: { uri: config.REGISTRY_TRACKING_URI },
  };
}
