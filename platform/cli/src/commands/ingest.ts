import { basename } from 'node:path';
import { SingleBar } from 'cli-progress';
import { ApiError, UsageError } from '../client';
import type { Context } from '../context';
import { guessValue, readAnyRecords } from '../files';
import { viewRowsOf, waitForFeatureStore } from './feature-store-catch-up';

interface Contract {
  version: number;
  contract: { fields: Record<string, { type: string }> };
}

interface BatchResult {
  accepted: number;
  rejected: number;
  contractVersion: number;
  rejections: { index: number; recordId?: string; reasons: { field: string; message: string }[] }[];
}

/** A CSV cell as the contract's field type wants it (an empty cell is a missing field). */
function typed(cell: string, type: string | undefined): unknown {
  if (cell === '') return undefined;
  if (type === 'number' || type === 'integer') return cell.trim() !== '' && Number.isFinite(Number(cell)) ? Number(cell) : cell;
  if (type === 'boolean') return cell === 'true' || cell === '1' ? true : cell === 'false' || cell === '0' ? false : cell;
  if (type === 'string' || type === 'timestamp') return cell;
  return guessValue(cell);
}

export interface IngestOptions {
  source: string;
  batchSize: string;
  /** false with --no-wait: do not wait for the feature store to apply the accepted records. */
  wait?: boolean;
}

/** How long ingest waits for the feature store to apply what ingestion accepted. */
const FEATURE_STORE_WAIT_MS = 300_000;

/** `mlops ingest <file> --source s`: batched POSTs to ingestion; counts and the first reasons. */
export async function ingest(ctx: Context, file: string, options: IngestOptions): Promise<number> {
  const batchSize = Number(options.batchSize);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError(`--batch-size: expected a positive integer, got "${options.batchSize}"`);
  const { rows, csv, parquet } = await readAnyRecords(ctx.io.cwd, file);
  if (rows.length === 0) throw new UsageError(`${file} has no records`);
  const source = encodeURIComponent(options.source);
  let contract: Contract;
  try {
    contract = await ctx.client.get<Contract>(`/ingestion/sources/${source}/contract`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      throw new ApiError(error.method, error.url, 404, error.body, `source "${options.source}" has no data contract: register one first (\`mlops apply -f <project>\` or PUT /ingestion/sources/${options.source}/contract)`);
    }
    throw error;
  }
  const fields = contract.contract.fields;
  const records = csv
    ? rows.map((row) => Object.fromEntries(Object.entries(row as Record<string, string>).flatMap(([k, v]) => {
        const value = typed(v, fields[k]?.type);
        return value === undefined ? [] : [[k, value]];
      })))
    : rows;

  const bar = ctx.io.isTTY && !ctx.json ? new SingleBar({ format: `${options.source} [{bar}] {value}/{total} records | accepted {accepted} rejected {rejected}`, stream: ctx.io.stderr as NodeJS.WritableStream }) : undefined;
  const total = { accepted: 0, rejected: 0, contractVersion: contract.version, rejections: [] as (BatchResult['rejections'][number] & { line?: number })[] };
  bar?.start(records.length, 0, { accepted: 0, rejected: 0 });
  const key = `${basename(file)}-${Date.now().toString(36)}`;
  const viewRows = options.wait === false ? new Map<string, number>() : await viewRowsOf(ctx, options.source);
  try {
    for (let start = 0; start < records.length; start += batchSize) {
      const batch = records.slice(start, start + batchSize);
      const result = await ctx.client.post<BatchResult>(`/ingestion/sources/${source}/records`, { records: batch }, { 'idempotency-key': `${key}:${start}` });
      total.accepted += result.accepted;
      total.rejected += result.rejected;
      total.contractVersion = result.contractVersion;
      for (const r of result.rejections) {
        if (total.rejections.length < 100) total.rejections.push({ ...r, index: start + r.index, ...(csv ? { line: start + r.index + 2 } : { line: start + r.index + 1 }) });
      }
      const sent = start + batch.length;
      if (bar) bar.update(sent, { accepted: total.accepted, rejected: total.rejected });
      else if (!ctx.json) ctx.note(`${options.source}: sent ${sent}/${records.length} records (accepted ${total.accepted}, rejected ${total.rejected})`);
    }
  } finally {
    bar?.stop();
  }
  const lines = [`${options.source}: ${records.length} records from ${file}, accepted ${total.accepted}, rejected ${total.rejected} (contract v${total.contractVersion})`];
  for (const r of total.rejections.slice(0, 5)) {
    // A Parquet file has rows, not lines: its rejections name the row (1 = the first).
    lines.push(`  ${parquet ? 'row' : 'line'} ${r.line}${r.recordId ? ` (${r.recordId})` : ''}: ${r.reasons.map((x) => `${x.field}: ${x.message}`).join('; ')}`);
  }
  if (total.rejected > 5) lines.push(`  ... ${total.rejected - 5} more rejected (--json lists the first 100)`);
  ctx.result({ source: options.source, file, records: records.length, ...total }, lines);
  if (viewRows.size === 0 || total.accepted === 0) return 0;
  ctx.note(`${options.source}: waiting for the feature store to apply ${total.accepted} records to ${[...viewRows.keys()].join(', ')}`);
  const behind = await waitForFeatureStore(ctx, viewRows, total.accepted, FEATURE_STORE_WAIT_MS);
  if (behind.length === 0) return 0;
  for (const { view, added } of behind) {
    ctx.note(
      `feature view ${view}: ${added} of ${total.accepted} new rows after ${FEATURE_STORE_WAIT_MS / 1000}s (is the feature store consuming? its log names records a view could not use); --no-wait does not wait`,
    );
  }
  return 1;
}
