import { EntitySchema, type ValueTransformer } from 'typeorm';
import type { PayloadOf } from '@mlops/contracts';

/** Postgres returns BIGINT as a string; timestamps are ms that fit a double. */
const bigintNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? null : Number(value)),
};

export interface RegisteredModelRow {
  name: string;
  description: string;
  creationTime: number;
  lastUpdatedTime: number;
}

export interface ModelTagRow {
  name: string;
  key: string;
  value: string;
}

export interface ModelVersionRow {
  name: string;
  version: number;
  status: string;
  description: string;
  /** Where the bytes came from (an upload, a file path, a training event's artifactUri). */
  source: string;
  runId: string | null;
  datasetId: string | null;
  datasetHash: string | null;
  codeVersion: string | null;
  /** sha256 of the ONNX bytes; the file lives at `<root>/sha256/<aa>/<hash>.onnx`. */
  artifactHash: string;
  artifactUri: string;
  /** JSON {inputs, outputs: [{name, datatype, shape}]}, as read from the model. */
  signature: string;
  /** JSON {metric: value}, as reported by training. */
  metrics: string;
  /** The event id that registered it (training.completed), for republishing follow-ups. */
  sourceEventId: string | null;
  correlationId: string | null;
  creationTime: number;
  lastUpdatedTime: number;
  /**
   * Where MLflow clients download the model from (`mlflow-artifacts:/...` on the tracking
   * server); null for versions registered from a file or an upload (their `source` is used).
   */
  storageLocation: string | null;
  /** The MLflow 3 logged model (`m-...`) the version was registered from, if any. */
  modelId: string | null;
  /** False when the version has no ONNX model: accepted as MLflow accepts it, but never deployed. */
  servable: boolean;
  /**
   * The holdout rows training wrote beside the model (training.completed `holdoutUri`), copied
   * into the store (`<root>/sha256/<aa>/<hash>.npy`); serving times a latency bound on them. Null: none.
   */
  holdoutUri: string | null;
}

export interface VersionTagRow {
  name: string;
  version: number;
  key: string;
  value: string;
}

export interface AliasRow {
  name: string;
  alias: string;
  version: number;
}

export interface GateDecisionRow {
  name: string;
  version: number;
  passed: boolean;
  metric: string;
  /** `holdout` (both models scored on REGISTRY_HOLDOUT_PATH), `reported` (event metrics) or `no-champion`. */
  basis: string;
  candidateScore: number | null;
  championVersion: number | null;
  championScore: number | null;
  tolerance: number;
  higherIsBetter: boolean;
  reason: string;
  decidedAt: number;
  /** JSON [{name, passed, measured, bound, detail}]: every check of the release policy; null before policies. */
  checks: string | null;
  /** The release policy version the candidate was checked against; null for the config's defaults. */
  policyVersion: number | null;
}

export interface ChampionHistoryRow {
  id?: number;
  name: string;
  version: number;
  previousVersion: number | null;
  reason: string;
  rolledBack: boolean;
  changedAt: number;
}

export const RegisteredModelEntity = new EntitySchema<RegisteredModelRow>({
  name: 'RegistryModel',
  tableName: 'registry_models',
  columns: {
    name: { type: String, primary: true, length: 200 },
    description: { type: 'text' },
    creationTime: { type: 'bigint', name: 'creation_time', transformer: bigintNumber },
    lastUpdatedTime: { type: 'bigint', name: 'last_updated_time', transformer: bigintNumber },
  },
});

export const ModelTagEntity = new EntitySchema<ModelTagRow>({
  name: 'RegistryModelTag',
  tableName: 'registry_model_tags',
  columns: {
    name: { type: String, primary: true, length: 200 },
    key: { type: String, primary: true, length: 250 },
    value: { type: 'text' },
  },
});

export const ModelVersionEntity = new EntitySchema<ModelVersionRow>({
  name: 'RegistryModelVersion',
  tableName: 'registry_model_versions',
  columns: {
    name: { type: String, primary: true, length: 200 },
    version: { type: Number, primary: true },
    status: { type: String, length: 20 },
    description: { type: 'text' },
    source: { type: 'text' },
    runId: { type: String, length: 200, name: 'run_id', nullable: true },
    datasetId: { type: String, length: 200, name: 'dataset_id', nullable: true },
    datasetHash: { type: String, length: 200, name: 'dataset_hash', nullable: true },
    codeVersion: { type: String, length: 200, name: 'code_version', nullable: true },
    artifactHash: { type: String, length: 64, name: 'artifact_hash' },
    artifactUri: { type: 'text', name: 'artifact_uri' },
    signature: { type: 'text' },
    metrics: { type: 'text' },
    sourceEventId: { type: String, length: 200, name: 'source_event_id', nullable: true },
    correlationId: { type: String, length: 200, name: 'correlation_id', nullable: true },
    creationTime: { type: 'bigint', name: 'creation_time', transformer: bigintNumber },
    lastUpdatedTime: { type: 'bigint', name: 'last_updated_time', transformer: bigintNumber },
    storageLocation: { type: 'text', name: 'storage_location', nullable: true },
    modelId: { type: String, length: 200, name: 'model_id', nullable: true },
    servable: { type: Boolean, default: true },
    holdoutUri: { type: 'text', name: 'holdout_uri', nullable: true },
  },
});

export const VersionTagEntity = new EntitySchema<VersionTagRow>({
  name: 'RegistryVersionTag',
  tableName: 'registry_version_tags',
  columns: {
    name: { type: String, primary: true, length: 200 },
    version: { type: Number, primary: true },
    key: { type: String, primary: true, length: 250 },
    value: { type: 'text' },
  },
});

export const AliasEntity = new EntitySchema<AliasRow>({
  name: 'RegistryAlias',
  tableName: 'registry_aliases',
  columns: {
    name: { type: String, primary: true, length: 200 },
    alias: { type: String, primary: true, length: 100 },
    version: { type: Number },
  },
});

export const GateDecisionEntity = new EntitySchema<GateDecisionRow>({
  name: 'RegistryGateDecision',
  tableName: 'registry_gate_decisions',
  columns: {
    name: { type: String, primary: true, length: 200 },
    version: { type: Number, primary: true },
    passed: { type: Boolean },
    metric: { type: String, length: 250 },
    basis: { type: String, length: 20 },
    candidateScore: { type: 'float', name: 'candidate_score', nullable: true },
    championVersion: { type: Number, name: 'champion_version', nullable: true },
    championScore: { type: 'float', name: 'champion_score', nullable: true },
    tolerance: { type: 'float' },
    higherIsBetter: { type: Boolean, name: 'higher_is_better' },
    reason: { type: 'text' },
    decidedAt: { type: 'bigint', name: 'decided_at', transformer: bigintNumber },
    checks: { type: 'text', nullable: true },
    policyVersion: { type: Number, name: 'policy_version', nullable: true },
  },
});

/** One version of a model's release policy (PUT /models/:name/policy stores a new one on a change). */
export interface ReleasePolicyRow {
  name: string;
  version: number;
  /** JSON of the declared policy (canonical: keys sorted). */
  policy: string;
  createdAt: number;
}

export const ReleasePolicyEntity = new EntitySchema<ReleasePolicyRow>({
  name: 'RegistryReleasePolicy',
  tableName: 'registry_release_policies',
  columns: {
    name: { type: String, primary: true, length: 200 },
    version: { type: Number, primary: true },
    policy: { type: 'text' },
    createdAt: { type: 'bigint', name: 'created_at', transformer: bigintNumber },
  },
});

export const ChampionHistoryEntity = new EntitySchema<ChampionHistoryRow>({
  name: 'RegistryChampionHistory',
  tableName: 'registry_champion_history',
  columns: {
    id: { type: Number, primary: true, generated: 'increment' },
    name: { type: String, length: 200 },
    version: { type: Number },
    previousVersion: { type: Number, name: 'previous_version', nullable: true },
    reason: { type: 'text' },
    rolledBack: { type: Boolean, name: 'rolled_back' },
    changedAt: { type: 'bigint', name: 'changed_at', transformer: bigintNumber },
  },
});

export type DeploymentStrategy = PayloadOf<'deployment.requested'>['strategy'];

/**
 * What serving runs of a version: loaded (`serving`, with its share), `failed` to deploy,
 * `rejected` by a check serving made before routing it (never served), or `unloaded` since.
 */
export interface ServingStateRow {
  name: string;
  version: number;
  status: 'serving' | 'failed' | 'rejected' | 'unloaded';
  trafficShare: number;
  /** How the version was deployed (deployment.completed `strategy`); null for a row recorded before strategies were kept. */
  strategy: DeploymentStrategy | null;
  /** The model's running shadow: loaded, given a copy of every request, answering none of it (trafficShare 0); null for rows recorded before it was kept. */
  mirrored: boolean | null;
  error: string | null;
  updatedAt: number;
}

export const ServingStateEntity = new EntitySchema<ServingStateRow>({
  name: 'RegistryServingState',
  tableName: 'registry_serving_state',
  columns: {
    name: { type: String, primary: true, length: 200 },
    version: { type: Number, primary: true },
    status: { type: String, length: 20 },
    trafficShare: { type: 'float', name: 'traffic_share' },
    strategy: { type: String, length: 20, nullable: true },
    mirrored: { type: Boolean, nullable: true },
    error: { type: 'text', nullable: true },
    updatedAt: { type: 'bigint', name: 'updated_at', transformer: bigintNumber },
  },
});

export const registryEntities = [
  ServingStateEntity,
  RegisteredModelEntity,
  ModelTagEntity,
  ModelVersionEntity,
  VersionTagEntity,
  AliasEntity,
  GateDecisionEntity,
  ChampionHistoryEntity,
  ReleasePolicyEntity,
];
