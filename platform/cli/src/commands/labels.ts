import { UsageError } from '../client';
import type { Context } from '../context';
import { guessValue, readRecords } from '../files';

const cellOf = (value: unknown) => (typeof value === 'string' ? guessValue(value) : value);

export interface LabelsOptions {
  predictions?: string;
  id?: string;
  labelColumn: string;
  batchSize: string;
}

/**
 * `mlops labels <file>`: the true labels of earlier predictions, in batches to monitoring. Each
 * row names its prediction (`predictionId`), or an id column joined to `--predictions` (the
 * file `mlops predict --out` wrote, which maps that id to the prediction id).
 */
export async function labels(ctx: Context, file: string, options: LabelsOptions): Promise<number> {
  const batchSize = Number(options.batchSize);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError(`--batch-size: expected a positive integer, got "${options.batchSize}"`);
  const { rows } = readRecords(ctx.io.cwd, file);
  let byId: Map<string, string> | undefined;
  let idColumn = options.id;
  if (options.predictions) {
    const written = readRecords(ctx.io.cwd, options.predictions).rows;
    idColumn ??= Object.keys(written[0] ?? {}).find((k) => k !== 'prediction_id' && k !== 'model_version' && k !== 'prediction');
    if (!idColumn) throw new UsageError(`${options.predictions} has no id column: write it with \`mlops predict ... --id <column> --out ${options.predictions}\``);
    byId = new Map(written.map((r) => [String(r[idColumn!]), String(r.prediction_id)]));
  }
  const sent: { predictionId: string; label: unknown }[] = [];
  const missing: string[] = [];
  for (const [i, row] of rows.entries()) {
    if (!(options.labelColumn in row)) throw new UsageError(`${file} row ${i + 1} has no "${options.labelColumn}" column (--label-column names it)`);
    const label = cellOf(row[options.labelColumn]);
    const direct = row.predictionId ?? row.prediction_id;
    if (direct !== undefined && direct !== '') sent.push({ predictionId: String(direct), label });
    else if (byId && idColumn && row[idColumn] !== undefined) {
      const predictionId = byId.get(String(row[idColumn]));
      if (predictionId) sent.push({ predictionId, label });
      else missing.push(String(row[idColumn]));
    } else throw new UsageError(`${file} row ${i + 1} has no predictionId column; give --predictions <file written by mlops predict --out> to join by ${idColumn ?? 'an id column'}`);
  }
  if (sent.length === 0) throw new UsageError(`no label of ${file} matches a prediction${options.predictions ? ` in ${options.predictions}` : ''}`);
  let accepted = 0;
  for (let start = 0; start < sent.length; start += batchSize) {
    const answer = await ctx.client.post<{ accepted: number }>('/monitoring/labels', { labels: sent.slice(start, start + batchSize) });
    accepted += answer.accepted;
  }
  ctx.result({ file, sent: sent.length, accepted, unmatched: missing.length }, [
    `labels: sent ${sent.length} from ${file}, accepted ${accepted}${missing.length ? `; ${missing.length} rows had no prediction in ${options.predictions} (e.g. ${missing.slice(0, 3).join(', ')})` : ''}`,
  ]);
  return 0;
}
