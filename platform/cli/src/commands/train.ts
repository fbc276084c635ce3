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
    ctx.say(`dataset ${dataset.datasetId} v${dataset.version}: ${dataset.rowCount} rows of ${view}`);
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
  const metrics = Object.entries(current.metrics ?? {})
    .map(([k, v]) => `${k} ${Number(v).toFixed(3)}`)
    .join(', ');
  ctx.result(
    current,
    current.status === 'completed'
      ? [`job ${current.jobId}: completed, run ${current.runId}${metrics ? `: ${metrics}` : ''}`, `  the registry's gate decides next: \`mlops models ${model}\``]
      : [`job ${current.jobId}: FAILED: ${current.error}`],
  );
  return current.status === 'completed' ? 0 : 1;
}
