import { readFileSync, writeFileSync } from 'node:fs';
import { tableFromIPC } from 'apache-arrow';
import type { Label, TabularData } from '../builtin/linear-trainer';

export type ColumnType = 'number' | 'integer' | 'string' | 'boolean' | 'timestamp';

export interface LoadedDataset {
  data: TabularData;
  schema: { name: string; type: ColumnType }[];
  rowsRead: number;
  /** Rows left out because the target or a feature was null / not finite. */
  rowsDropped: number;
  /** The `sliceColumn` option's value per kept row (aligned with data.rows). */
  sliceValues?: (Label | null)[];
}

const NUMERIC = new Set<ColumnType>(['number', 'integer', 'boolean']);

/** The schema of an Arrow table in the platform's column types. */
function columnType(arrowType: string): ColumnType {
  if (/^(Float|Int|Uint)/i.test(arrowType)) return 'number';
  if (/^Bool/i.test(arrowType)) return 'boolean';
  if (/^Timestamp|^Date/i.test(arrowType)) return 'timestamp';
  return 'string';
}

/**
 * Reads a materialized dataset (Arrow IPC file): features are the numeric (and boolean)
 * columns other than the target; entity keys (strings) and event timestamps are never
 * features. Rows with a missing target or feature are dropped and counted.
 */
export function loadDataset(uri: string, target: string, options: { exclude?: string[]; sliceColumn?: string } = {}): LoadedDataset {
  let bytes: Buffer;
  try {
    bytes = readFileSync(uri);
  } catch (error) {
    throw new Error(`cannot read dataset ${uri}: ${(error as Error).message}`);
  }
  const table = tableFromIPC(bytes);
  const schema = table.schema.fields.map((f) => ({ name: f.name, type: columnType(String(f.type)) }));
  if (!schema.some((c) => c.name === target)) {
    throw new Error(`target column '${target}' is not in the dataset (columns: ${schema.map((c) => c.name).join(', ')})`);
  }
  const slice = options.sliceColumn;
  if (slice !== undefined && !schema.some((c) => c.name === slice)) {
    throw new Error(`params.slice_column '${slice}' is not in the dataset (columns: ${schema.map((c) => c.name).join(', ')})`);
  }
  const sliceVector = slice === undefined ? undefined : table.getChild(slice)!;
  const sliceValues: (Label | null)[] = [];
  const exclude = new Set([target, 'event_timestamp', ...(options.exclude ?? [])]);
  const features = schema.filter((c) => NUMERIC.has(c.type) && !exclude.has(c.name)).map((c) => c.name);
  const featureVectors = features.map((f) => table.getChild(f)!);
  const targetVector = table.getChild(target)!;
  const data: TabularData = { features, rows: [], target: [] };
  let dropped = 0;
  for (let i = 0; i < table.numRows; i++) {
    const y = targetVector.get(i) as Label | bigint | null;
    const row = featureVectors.map((v) => {
      const x = v.get(i) as number | bigint | boolean | null;
      return typeof x === 'boolean' || typeof x === 'bigint' ? Number(x) : x;
    });
    if (y === null || y === undefined || (typeof y === 'number' && !Number.isFinite(y)) || row.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
      dropped++;
      continue;
    }
    data.rows.push(row as number[]);
    data.target.push(typeof y === 'bigint' ? Number(y) : y);
    if (sliceVector) {
      const value = sliceVector.get(i) as Label | bigint | boolean | null | undefined;
      sliceValues.push(value === null || value === undefined ? null : typeof value === 'bigint' || typeof value === 'boolean' ? Number(value) : value);
    }
  }
  return { data, schema, rowsRead: table.numRows, rowsDropped: dropped, ...(sliceVector ? { sliceValues } : {}) };
}

const csvCell = (v: unknown) => {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** The features + target as CSV (header row first) for external trainers without Arrow. */
export function writeCsv(path: string, data: TabularData, target: string): void {
  const lines = [[...data.features, target].map(csvCell).join(',')];
  data.rows.forEach((row, i) => lines.push([...row, data.target[i]].map(csvCell).join(',')));
  writeFileSync(path, lines.join('\n') + '\n');
}
