import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** MLflow REST limits of runs/log-batch. */
const MAX_METRICS = 1000;
const MAX_PARAMS = 100;
const MAX_PARAM_VALUE = 6000;

export interface MetricPoint {
  key: string;
  value: number;
  step: number;
}

/** A tracking server's answer that is not a success, with MLflow's error code. */
export class TrackingError extends Error {
  override name = 'TrackingError';

  constructor(
    message: string,
    readonly status: number,
    readonly errorCode?: string,
  ) {
    super(message);
  }
}

/** A logged model as runs/create-like calls return it. */
export interface LoggedModelRef {
  modelId: string;
  artifactUri: string;
}

type Method = 'GET' | 'POST' | 'PATCH';

/**
 * Logs a training job as an MLflow run over the REST API (our tracking service or a real
 * MLflow server): one experiment per model, params, final and per-step metrics, tags, and the
 * model as an MLflow 3 logged model whose files go through the artifact proxy.
 */
export class TrackingClient {
  private readonly base: string;

  constructor(baseUrl: string) {
    this.base = baseUrl.replace(/\/$/, '');
  }

  private async call<T>(method: Method, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.base}/api/2.0/mlflow${path}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = {};
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = { message: text };
    }
    return { status: response.status, body: parsed as T };
  }

  private async ok<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const reply = await this.call<T & { error_code?: string; message?: string }>(method, path, body);
    if (reply.status !== 200) {
      const { error_code: code, message } = reply.body;
      throw new TrackingError(`tracking ${path} answered ${reply.status}: ${code ?? ''} ${message ?? ''}`.trim(), reply.status, code);
    }
    return reply.body;
  }

  async experimentId(name: string): Promise<string> {
    const found = await this.call<{ experiment?: { experiment_id: string } }>('GET', `/experiments/get-by-name?${new URLSearchParams({ experiment_name: name })}`);
    if (found.status === 200 && found.body.experiment) return found.body.experiment.experiment_id;
    const created = await this.call<{ experiment_id?: string; error_code?: string }>('POST', '/experiments/create', { name });
    if (created.status === 200 && created.body.experiment_id) return created.body.experiment_id;
    if (created.body.error_code === 'RESOURCE_ALREADY_EXISTS') return this.experimentId(name);
    throw new Error(`tracking: cannot create experiment '${name}' (${created.status})`);
  }

  /** The new run's id and artifact URI. */
  async startRun(experimentId: string, runName: string, tags: Record<string, string>): Promise<{ runId: string; artifactUri: string }> {
    const created = await this.ok<{ run: { info: { run_id: string; artifact_uri?: string } } }>('POST', '/runs/create', {
      experiment_id: experimentId,
      run_name: runName,
      start_time: Date.now(),
      tags: Object.entries({ 'mlflow.runName': runName, ...tags }).map(([key, value]) => ({ key, value })),
    });
    return { runId: created.run.info.run_id, artifactUri: created.run.info.artifact_uri ?? '' };
  }

  async logBatch(runId: string, params: Record<string, string>, metrics: MetricPoint[]): Promise<void> {
    const timestamp = Date.now();
    const paramList = Object.entries(params).map(([key, value]) => ({ key, value: value.slice(0, MAX_PARAM_VALUE) }));
    for (let i = 0; i < Math.max(paramList.length, 1); i += MAX_PARAMS) {
      if (paramList.length === 0) break;
      await this.ok('POST', '/runs/log-batch', { run_id: runId, params: paramList.slice(i, i + MAX_PARAMS) });
    }
    for (let i = 0; i < metrics.length; i += MAX_METRICS) {
      await this.ok('POST', '/runs/log-batch', { run_id: runId, metrics: metrics.slice(i, i + MAX_METRICS).map((m) => ({ ...m, timestamp })) });
    }
  }

  /** A PENDING logged model of the run (MLflow 3's logged-models). */
  async createLoggedModel(input: {
    experimentId: string;
    name: string;
    runId: string;
    params: Record<string, string>;
    tags: Record<string, string>;
  }): Promise<LoggedModelRef> {
    const toList = (record: Record<string, string>, max: number) => Object.entries(record).map(([key, value]) => ({ key, value: value.slice(0, max) }));
    const created = await this.ok<{ model: { info: { model_id: string; artifact_uri: string } } }>('POST', '/logged-models', {
      experiment_id: input.experimentId,
      name: input.name,
      source_run_id: input.runId,
      params: toList(input.params, MAX_PARAM_VALUE),
      tags: toList(input.tags, MAX_PARAM_VALUE),
    });
    return { modelId: created.model.info.model_id, artifactUri: created.model.info.artifact_uri };
  }

  /** Links the model to the run as its output (what makes `runs:/<run>/<name>` and the run's outputs find it). */
  async logOutputs(runId: string, modelId: string, step = 0): Promise<void> {
    await this.ok('POST', '/runs/outputs', { run_id: runId, models: [{ model_id: modelId, step }] });
  }

  async finalizeLoggedModel(modelId: string, status: 'LOGGED_MODEL_READY' | 'LOGGED_MODEL_UPLOAD_FAILED'): Promise<void> {
    await this.ok('PATCH', `/logged-models/${encodeURIComponent(modelId)}`, { model_id: modelId, status });
  }

  /** Whether putArtifact can write under this artifact URI. */
  static canWrite(artifactUri: string): boolean {
    return /^(mlflow-artifacts:|file:|\/)/.test(artifactUri);
  }

  /**
   * Writes one artifact file under an artifact URI: through the server's artifact proxy for
   * `mlflow-artifacts:` URIs, straight to disk for `file:` URIs and plain paths (a server with
   * a local artifact store). Other schemes (s3, gs, ...) need their own client: an error.
   */
  async putArtifact(artifactUri: string, path: string, bytes: Uint8Array): Promise<void> {
    const proxied = /^mlflow-artifacts:(?:\/\/[^/]*)?\/?(.*)$/.exec(artifactUri);
    if (proxied) {
      const target = [...proxied[1].split('/'), ...path.split('/')].filter(Boolean).map(encodeURIComponent).join('/');
      const response = await fetch(`${this.base}/api/2.0/mlflow-artifacts/artifacts/${target}`, { method: 'PUT', body: bytes });
      if (!response.ok) throw new TrackingError(`uploading ${path} to ${artifactUri} answered ${response.status}: ${(await response.text()).slice(0, 300)}`, response.status);
      return;
    }
    if (artifactUri.startsWith('file:') || artifactUri.startsWith('/')) {
      const target = join(artifactUri.startsWith('file:') ? fileURLToPath(artifactUri) : artifactUri, path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, bytes);
      return;
    }
    throw new Error(`cannot write artifacts to ${artifactUri}: the trainer writes through the mlflow-artifacts proxy or to a local path only`);
  }

  async endRun(runId: string, status: 'FINISHED' | 'FAILED'): Promise<void> {
    await this.ok('POST', '/runs/update', { run_id: runId, status, end_time: Date.now() });
  }
}
