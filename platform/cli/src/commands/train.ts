import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from '../client';
import type { Context } from '../context';
import { loadProject, modelOf } from '../project';
import { materialize } from './datasets';

interface Job {
  jobId: string;
  model: string;
  status: string;
  datasetUri: string;
  target: string;
  metrics?: Record<string, number>;
  runId?: string;
  error?: string;
}

/** The job's metrics, counts as integers. */
const metricsOf = (job: Job) =>
  Object.entries(job.metrics ?? {})
    .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : Number(v).toFixed(3)}`)
    .join(', ');

interface Registered {
  version: number;
  gate: { passed: boolean; decision: string; reason: string };
}

/** The version the registry made of a run, once its gate has decided (undefined at the deadline). */
async function registration(ctx: Context, model: string, runId: string, deadline: number): Promise<Registered | undefined> {
  const filter = encodeURIComponent(`name='${model}' AND run_id='${runId}'`);
  while (Date.now() <= deadline) {
    const found = await ctx.client.get<{ model_versions?: { version: string }[] }>(`/api/2.0/mlflow/model-versions/search?filter=${filter}`);
    const version = found.model_versions?.[0]?.version;
    if (version) {
      const gate = await ctx.client.probe(`/registry/models/${encodeURIComponent(model)}/versions/${version}/gate`);
      if (gate.status === 200) return { version: Number(version), gate: gate.body as Registered['gate'] };
    }
    await sleep(250);
  }
  return undefined;
}

export interface TrainOptions {
  file?: string;
  view?: string;
  dataset?: string;
  target?: string;
  params?: string;
  wait: boolean;
  timeout: string;
}

/**
 * `mlops train <model>`: a training job on a dataset (`--dataset <uri>`, or one materialized now
 * from `--view` / the project's model), with the project's params or `--params`; waits for it.
 */
export async function train(ctx: Context, model: string, options: TrainOptions): Promise<number> {
  const spec = options.file ? modelOf(loadProject(ctx.io.cwd, options.file), model, options.file) : undefined;
  let params: Record<string, unknown> | undefined = spec?.params;
  if (options.params) {
    try {
      params = { ...params, ...(JSON.parse(options.params) as Record<string, unknown>) };
    } catch (error) {
      throw new UsageError(`--params: expected a JSON object, ${(error as Error).message}`);
    }
  }
  const view = options.view ?? spec?.featureView;
  let datasetUri = options.dataset;
  if (!datasetUri) {
    if (!view) throw new UsageError('say what to train on: --dataset <uri>, --view <feature view>, or -f <project> defining the model');
    const dataset = await materialize(ctx, { featureView: view });
    datasetUri = dataset.uri;
    ctx.say(`dataset ${dataset.datasetId}: ${dataset.rowCount} rows of ${view}`);
  }
  const target = options.target ?? spec?.target;
  const job = await ctx.client.post<Job>('/trainer/jobs', { model, datasetUri, ...(target ? { target } : {}), ...(params ? { params } : {}) });
  ctx.say(`job ${job.jobId}: ${job.status} (model ${model}, target ${job.target})`);
  if (!options.wait) {
    ctx.result(job);
    return 0;
  }
  const deadline = Date.now() + Number(options.timeout) * 1000;
  let current = job;
  while (current.status !== 'completed' && current.status !== 'failed') {
    if (Date.now() > deadline) {
      ctx.result(current, [`job ${current.jobId}: still ${current.status} after ${options.timeout}s (see GET /trainer/jobs/${current.jobId})`]);
      return 1;
    }
    await sleep(250);
    current = await ctx.client.get<Job>(`/trainer/jobs/${encodeURIComponent(job.jobId)}`);
  }
  if (current.status === 'completed' && current.runId) {
    const registered = await registration(ctx, model, current.runId, deadline);
    const metricsText = metricsOf(current);
    ctx.result({ ...current, registered }, [
      `job ${current.jobId}: completed, run ${current.runId}${metricsText ? `: ${metricsText}` : ''}`,
      registered
        ? `  registered as ${model} v${registered.version}; gate: ${registered.gate.decision} (${registered.gate.reason})`
        : `  not registered yet (the registry's gate decides; see \`mlops models ${model}\`)`,
    ]);
    return registered?.gate.passed === false ? 1 : 0;
  }
  const metrics = metricsOf(current);
  ctx.result(
    current,
    current.status === 'completed'
      ? [`job ${current.jobId}: completed, run ${current.runId}${metrics ? `: ${metrics}` : ''}`, `  the registry's gate decides next: \`mlops models ${model}\``]
      : [`job ${current.jobId}: FAILED: ${current.error}`],
  );
  return current.status === 'completed' ? 0 : 1;
}
