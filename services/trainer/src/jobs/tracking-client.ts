/** MLflow REST limits of runs/log-batch. */
const MAX_METRICS = 1000;
const MAX_PARAMS = 100;
const MAX_PARAM_VALUE = 6000;

export interface MetricPoint {
  key: string;
  value: number;
  step: number;
}

/**
 * Logs a training job as an MLflow run over the REST API (our tracking service or a real
 * MLflow server): one experiment per model, params, final and per-step metrics, tags.
 */
export class TrackingClient {
  constructor(private readonly baseUrl: string) {}

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.baseUrl.replace(/\/$/, '')}/api/2.0/mlflow${path}`, {
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

  private async ok<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const reply = await this.call<T & { error_code?: string; message?: string }>(method, path, body);
    if (reply.status !== 200) throw new Error(`tracking ${path} answered ${reply.status}: ${reply.body.error_code ?? ''} ${reply.body.message ?? ''}`.trim());
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

  async startRun(experimentId: string, runName: string, tags: Record<string, string>): Promise<string> {
    const created = await this.ok<{ run: { info: { run_id: string } } }>('POST', '/runs/create', {
      experiment_id: experimentId,
      run_name: runName,
      start_time: Date.now(),
      tags: Object.entries({ 'mlflow.runName': runName, ...tags }).map(([key, value]) => ({ key, value })),
    });
    return created.run.info.run_id;
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

  async endRun(runId: string, status: 'FINISHED' | 'FAILED'): Promise<void> {
    await this.ok('POST', '/runs/update', { run_id: runId, status, end_time: Date.now() });
  }
}
