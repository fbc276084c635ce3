import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../client';
import type { Context } from '../context';
import { guessValue, readRecords } from '../files';

interface Tensor {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
}
interface InferResponse {
  model_version?: string;
  outputs: Tensor[];
  parameters?: { prediction_ids?: string[]; model_version?: string; route?: string };
}
interface Metadata {
  inputs: { name: string; datatype: string; shape: number[] }[];
  /** Serving's names of the input's columns, when the model carries them (ONNX metadata). */
  parameters?: { feature_names?: string[] };
}
interface MlflowVersion {
  model_version: { version: string; run_id?: string };
}
interface Run {
  run: { data: { params?: { key: string; value: string }[] } };
}

export interface PredictOptions {
  json?: string;
  file?: string;
  id?: string;
  out?: string;
  version?: string;
  batchSize: string;
  concurrency: string;
  output?: string;
}

/**
 * The model's feature order, for rows given as objects, when serving's metadata names no
 * columns: the `features` param the trainer logged on the version's run (the champion's, or
 * `--version`'s), read through MLflow's API.
 */
async function featureOrder(ctx: Context, model: string, version: string | undefined): Promise<string[]> {
  const name = encodeURIComponent(model);
  const { model_version: mv } = version
    ? await ctx.client.get<MlflowVersion>(`/api/2.0/mlflow/model-versions/get?name=${name}&version=${encodeURIComponent(version)}`)
    : await ctx.client.get<MlflowVersion>(`/api/2.0/mlflow/registered-models/alias?name=${name}&alias=champion`);
  const params = mv.run_id ? (await ctx.client.get<Run>(`/api/2.0/mlflow/runs/get?run_id=${encodeURIComponent(mv.run_id)}`)).run.data.params ?? [] : [];
  const features = params.find((p) => p.key === 'features')?.value;
  if (!features) throw new UsageError(`${model} v${mv.version} does not record its feature names (no "features" param on its run): give rows as arrays in the model's input order`);
  return features.split(',');
}

/** `mlops predict <model> --json '<rows>' | --file f`: KServe v2 REST infer, in batches. */
export async function predict(ctx: Context, model: string, options: PredictOptions): Promise<number> {
  const batchSize = Number(options.batchSize);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError(`--batch-size: expected a positive integer, got "${options.batchSize}"`);
  const concurrency = Number(options.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`--concurrency: expected a positive integer, got "${options.concurrency}"`);
  if (!!options.json === !!options.file) throw new UsageError("give the rows with --json '<rows>' (a JSON array of arrays or objects) or --file <file.csv|.jsonl>");
  let rows: unknown[];
  if (options.json) {
    try {
      rows = JSON.parse(options.json) as unknown[];
    } catch (error) {
      throw new UsageError(`--json: not JSON: ${(error as Error).message}`);
    }
    if (!Array.isArray(rows) || rows.length === 0) throw new UsageError('--json: expected a non-empty JSON array of rows, e.g. [[1, 2.5, 0]] or [{"tenure_months": 3, ...}]');
  } else {
    const read = readRecords(ctx.io.cwd, options.file!);
    rows = read.csv ? read.rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, guessValue(v as string)]))) : read.rows;
  }
  const base = `/serving/v2/models/${encodeURIComponent(model)}${options.version ? `/versions/${encodeURIComponent(options.version)}` : ''}`;
  const metadata = await ctx.client.get<Metadata>(base);
  const objects = !Array.isArray(rows[0]);
  const order = objects ? (metadata.parameters?.feature_names ?? (await featureOrder(ctx, model, options.version))) : undefined;
  const vectors = rows.map((row, i) => {
    if (Array.isArray(row)) return row.map(Number);
    const record = row as Record<string, unknown>;
    return order!.map((f) => {
      const value = Number(record[f]);
      if (record[f] === undefined || record[f] === null || !Number.isFinite(value)) throw new UsageError(`row ${i + 1}: feature "${f}" is ${record[f] === undefined ? 'missing' : `not a number (${JSON.stringify(record[f])})`}; ${model} takes ${order!.join(', ')}`);
      return value;
    });
  });
  const input = metadata.inputs[0]!;
  const run = randomUUID().slice(0, 8);
  type Prediction = { id?: unknown; prediction_id: string; model_version: string; prediction: unknown; outputs: Record<string, unknown> };
  const predictions: Prediction[][] = [];
  const starts = Array.from({ length: Math.ceil(vectors.length / batchSize) }, (_, b) => b * batchSize);
  const infer = async (start: number): Promise<void> => {
    const batch = vectors.slice(start, start + batchSize);
    const id = `${run}-${start}`;
    const rowId = (r: number) => (options.id ? (rows[start + r] as Record<string, unknown>)[options.id] : undefined);
    // One row a request with an id: canary routing sticks to that id (serving's request_key).
    const key = batch.length === 1 && rowId(0) !== undefined ? { parameters: { request_key: String(rowId(0)) } } : {};
    const answer = await ctx.client.post<InferResponse>(`${base}/infer`, {
      id,
      ...key,
      inputs: [{ name: input.name, datatype: input.datatype, shape: [batch.length, batch[0]!.length], data: batch.flat() }],
    });
    const version = answer.parameters?.model_version ?? answer.model_version ?? '?';
    predictions[start / batchSize] = batch.map((_, r) => {
      const outputs = Object.fromEntries(
        answer.outputs.map((o) => {
          const width = o.shape.length > 1 ? o.shape.slice(1).reduce((a, b) => a * b, 1) : 1;
          return [o.name, width === 1 ? o.data[r] : o.data.slice(r * width, (r + 1) * width)];
        }),
      );
      return {
        ...(options.id ? { id: rowId(r) } : {}),
        // Serving logs row r of request `id` as `<id>:<r>` (and returns the ids it logged).
        prediction_id: answer.parameters?.prediction_ids?.[r] ?? `${id}:${r}`,
        model_version: version,
        prediction: outputs.label ?? Object.values(outputs)[0],
        outputs,
      };
    });
  };
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, starts.length) }, async () => {
      while (next < starts.length) await infer(starts[next++]!);
    }),
  );
  const all = predictions.flat();
  if (options.out) {
    const header = [...(options.id ? [options.id] : []), 'prediction_id', 'model_version', 'prediction'];
    const csv = all.map((p) => [...(options.id ? [String(p.id)] : []), p.prediction_id, p.model_version, JSON.stringify(p.prediction)].map((c) => (/[",\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join(','));
    writeFileSync(resolve(ctx.io.cwd, options.out), `${[header.join(','), ...csv].join('\n')}\n`);
  }
  const byVersion: Record<string, number> = {};
  for (const p of all) byVersion[p.model_version] = (byVersion[p.model_version] ?? 0) + 1;
  const versions = Object.entries(byVersion).map(([v, n]) => `v${v}: ${n}`).join(', ');
  const lines =
    all.length <= 10
      ? all.map((p) => `${p.id !== undefined ? `${String(p.id)} ` : ''}${model} v${p.model_version}: ${JSON.stringify(p.prediction)} ${JSON.stringify(p.outputs)}  (prediction ${p.prediction_id})`)
      : [`${model}: ${all.length} rows predicted (${versions})`];
  if (options.out) lines.push(`wrote ${all.length} predictions to ${options.out} (\`mlops labels <file> --predictions ${options.out}\` sends their true labels)`);
  if (options.output === 'json' || ctx.json) ctx.io.stdout.write(`${JSON.stringify({ model, predictions: all, byVersion })}\n`);
  else ctx.result(null, lines);
  return 0;
}
