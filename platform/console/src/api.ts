/**
 * The console's one way to the platform: the front door's HTTP APIs on this origin, with the
 * API token (when the user gave one) as a bearer token. An error answer throws its message.
 */

const TOKEN_KEY = 'mlops.apiToken';

export const apiToken = {
  get: (): string => sessionStorage.getItem(TOKEN_KEY) ?? '',
  set: (token: string) => (token ? sessionStorage.setItem(TOKEN_KEY, token) : sessionStorage.removeItem(TOKEN_KEY)),
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = apiToken.get();
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method: body === undefined ? 'GET' : 'POST', headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = { message: text };
  }
  if (!response.ok) {
    const message = (parsed as { message?: string }).message ?? response.statusText;
    throw new ApiError(response.status, `${response.status} ${path.split('?')[0]}: ${message}`);
  }
  return parsed as T;
}

export const query = (params: Record<string, string | number | undefined>) =>
  new URLSearchParams(Object.entries(params).filter((e): e is [string, string | number] => e[1] !== undefined && e[1] !== '').map(([k, v]) => [k, String(v)])).toString();

// ---- MLflow tracking ----
export interface Experiment {
  experiment_id: string;
  name: string;
  lifecycle_stage: string;
  creation_time?: number;
  last_update_time?: number;
}
export interface KeyValue {
  key: string;
  value: string;
}
export interface Metric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}
export interface Run {
  info: { run_id: string; run_name?: string; experiment_id: string; status: string; start_time?: number; end_time?: number; artifact_uri?: string };
  data: { metrics?: Metric[]; params?: KeyValue[]; tags?: KeyValue[] };
}
export interface Page {
  next_page_token?: string;
}
export interface FileInfo {
  path: string;
  is_dir?: boolean;
  file_size?: number;
}

export const MLFLOW = '/api/2.0/mlflow';

export async function metricHistory(runId: string, key: string): Promise<Metric[]> {
  const points: Metric[] = [];
  let token: string | undefined;
  do {
    const page = await api<{ metrics?: Metric[] } & Page>(`${MLFLOW}/metrics/get-history?${query({ run_id: runId, metric_key: key, max_results: 25000, page_token: token })}`);
    points.push(...(page.metrics ?? []));
    token = page.next_page_token;
  } while (token);
  return points.sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
}

/** Where the browser downloads a run's artifact: MLflow's artifact proxy for `mlflow-artifacts:/` roots. */
export function artifactDownloadUrl(artifactUri: string | undefined, path: string): string | undefined {
  const proxied = /^mlflow-artifacts:\/+(.*)$/.exec(artifactUri ?? '');
  if (!proxied) return undefined;
  return `${MLFLOW}-artifacts/artifacts/${[proxied[1], path].filter(Boolean).map((p) => p.split('/').map(encodeURIComponent).join('/')).join('/')}`;
}

// ---- registry ----
export interface ModelVersion {
  name: string;
  version: string;
  creation_timestamp?: number;
  current_stage?: string;
  run_id?: string;
  status?: string;
  aliases?: string[];
  dataset_id?: string;
  dataset_hash?: string;
  code_version?: string;
  metrics?: Record<string, number>;
}
export interface RegisteredModel {
  name: string;
  last_updated_timestamp?: number;
  aliases?: { alias: string; version: string }[];
  latest_versions?: ModelVersion[];
  description?: string;
}
export interface GateDecision {
  model: string;
  version: number;
  passed: boolean;
  decision: string;
  metric: string;
  basis: string;
  higher_is_better: boolean;
  tolerance: number;
  candidate_score: number | null;
  champion_version: number | null;
  champion_score: number | null;
  reason: string;
  decided_at?: number;
  /** The release policy's checks (null for decisions made before policies); `passed: null`: pending (latency until serving's warm-up reports it). */
  checks?: { name: string; passed: boolean | null; measured: number | null; bound: number | null; detail: string }[] | null;
  pending_checks?: string[] | null;
  policy_version?: number | null;
}
export interface Lineage {
  model: string;
  version: number;
  run_id?: string | null;
  dataset?: { id?: string; hash?: string } | null;
  code_version?: string | null;
  artifact?: { hash?: string; uri?: string } | null;
  source?: string;
}

/** GET /registry/models/:name: what serving runs, with each version's traffic share and the strategy it was deployed with (null: recorded before strategies were kept). */
export interface ModelSummary {
  name: string;
  champion: number | null;
  versions: number;
  /** `shadow`: the running shadow (share 0: a copy of every request, answers none). */
  serving: { version: number; share: number; strategy?: string | null; shadow?: boolean }[];
  updatedAt: string;
}
/** GET /registry/models/:name/versions: one keyset page, newest first. */
export interface VersionListing {
  versions: {
    version: number;
    status: string;
    aliases: string[];
    stage: string;
    gate: { passed: boolean; metric: string; candidateScore: number | null; championScore: number | null; reason: string; pendingChecks?: string[] | null } | null;
    /** serving's last report of the version (null: never deployed); `rejected`: its warm-up checks failed, it never took traffic. */
    serving?: { status: string; share: number; strategy: string | null; error: string | null } | null;
    runId: string | null;
    datasetHash: string | null;
    createdAt: string;
  }[];
  next_page_token?: string;
}
/** POST /registry/models/:name/deploy's 202. */
export interface DeployAnswer {
  model: string;
  version: number;
  strategy: string;
  share: number;
  correlationId: string;
}

// ---- loops ----
export interface LoopStage {
  type: string;
  at: string;
  eventId: string;
  source: string;
  facts: Record<string, unknown>;
  ignored: boolean;
  note: string | null;
  sinceStartMs: number;
  sincePreviousMs: number;
}
export interface Loop {
  correlationId: string;
  model: string;
  status: 'open' | 'closed';
  outcome: string | null;
  outcomeReason: string | null;
  driftVersion: number | null;
  driftedFeatures: string[];
  candidateVersion: number | null;
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  stages?: LoopStage[];
}

// ---- monitoring ----
export interface FeatureDrift {
  feature: string;
  statistic: string;
  value: number;
  threshold: number;
  drifted: boolean;
}
export interface DriftAnswer {
  model: string;
  version: number | null;
  window?: { start: string; end: string; size: number };
  evaluatedAt?: string;
  report?: { rows: number; features: FeatureDrift[]; datasetDrift: { share: number; threshold: number; drifted: boolean } };
}
export interface Performance {
  version: number;
  kind: string;
  labels: number;
  metrics: Record<string, number>;
  baseline?: { metric: string; value: number; source: string } | null;
}
export interface Verdict {
  verdict: string;
  reason: string;
  predictions: number;
  labels?: number;
  metric?: string;
  canaryValue?: number;
  championValue?: number;
  confidence?: number;
}
export interface Canary {
  version: number;
  championVersion: number;
  status: string;
  predictions: number;
  endedReason?: string;
  verdict?: Verdict | null;
}
export interface ModelStatus {
  model: string;
  champion: number | null;
  canary: Canary | null;
  canaries: Canary[];
  versions: { version: number; reference: { status: string; source?: string; datasetId?: string; problem?: string | null }; performance: Performance | null }[];
}
/** GET /monitoring/models/:model/drift/history: stored windows, newest first. */
export interface DriftHistoryPage {
  model: string;
  windows: {
    version: number;
    window: { start: string; end: string; size: number };
    evaluatedAt: string;
    datasetDrift: { share: number; threshold: number; drifted: boolean };
    features: FeatureDrift[];
  }[];
  next_page_token?: string;
}
