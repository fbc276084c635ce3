import { UsageError } from '../client';
import type { Context } from '../context';

export interface Dataset {
  datasetId: string;
  version: number;
  hash: string;
  featureView: string;
  model?: string;
  uri: string;
  rowCount: number;
  changed?: boolean;
  correlationId?: string;
}

export function materialize(ctx: Context, body: Record<string, unknown>): Promise<Dataset> {
  return ctx.client.post<Dataset>('/feature-store/datasets', body);
}

/** `mlops datasets create --view v [--train --model m]`: a snapshot; training only with --train. */
export async function createDataset(ctx: Context, options: { view: string; train?: boolean; model?: string; from?: string; to?: string }): Promise<number> {
  if (options.train && !options.model) throw new UsageError('--train needs --model <name> (the model the dataset trains)');
  const body: Record<string, unknown> = { featureView: options.view };
  if (options.model) body.model = options.model;
  if (options.train) body.train = true;
  if (options.from) body.from = options.from;
  if (options.to) body.to = options.to;
  const dataset = await materialize(ctx, body);
  ctx.result(dataset, [
    `dataset ${dataset.datasetId}: ${dataset.rowCount} rows of ${dataset.featureView}, sha256 ${dataset.hash.slice(0, 12)}${dataset.changed === false ? ' (unchanged)' : ''}`,
    `  ${dataset.uri}`,
    options.train ? `  training ${options.model} (correlation id ${dataset.correlationId ?? '-'}; follow it with \`mlops models ${options.model}\`)` : '  not trained (add --train --model <name> to train on it)',
  ]);
  return 0;
}
