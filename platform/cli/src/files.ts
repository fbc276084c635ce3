import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parquetReadObjects, toJson } from 'hyparquet';
import { UsageError } from './client';

export type Row = Record<string, string | number | boolean | null>;

/** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and newlines. Cells stay strings. */
export function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  const lines = rows.filter((r) => !(r.length === 1 && r[0] === ''));
  const [header, ...body] = lines;
  if (!header) return [];
  return body.map((cells, n) => {
    if (cells.length !== header.length) throw new UsageError(`line ${n + 2}: ${cells.length} cells, the header has ${header.length} (${header.join(',')})`);
    return Object.fromEntries(header.map((h, k) => [h, cells[k]!]));
  });
}

/** A CSV cell as JSON: numbers and true/false as such, empty as null, else the string. */
export function guessValue(cell: string): string | number | boolean | null {
  if (cell === '') return null;
  if (cell === 'true' || cell === 'false') return cell === 'true';
  const n = Number(cell);
  return cell.trim() !== '' && Number.isFinite(n) ? n : cell;
}

/**
 * Records of a `.csv` (header row; cells kept as strings, see `guessValue`), `.jsonl` /
 * `.ndjson` (one JSON object a line) or `.json` (an array of objects) file.
 */
export function readRecords(cwd: string, path: string): { rows: Record<string, unknown>[]; csv: boolean } {
  const file = resolve(cwd, path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  const ext = extname(file).toLowerCase();
  try {
    if (ext === '.csv') return { rows: parseCsv(text), csv: true };
    if (ext === '.jsonl' || ext === '.ndjson') {
      return {
        rows: text
          .split('\n')
          .map((line, i) => [line.trim(), i + 1] as const)
          .filter(([line]) => line !== '')
          .map(([line, n]) => {
            const value: unknown = JSON.parse(line);
            if (!value || typeof value !== 'object' || Array.isArray(value)) throw new UsageError(`line ${n}: expected a JSON object`);
            return value as Record<string, unknown>;
          }),
        csv: false,
      };
    }
    if (ext === '.json') {
      const value: unknown = JSON.parse(text);
      if (!Array.isArray(value)) throw new UsageError('expected a JSON array of records');
      return { rows: value as Record<string, unknown>[], csv: false };
    }
  } catch (error) {
    throw new UsageError(`${path}: ${(error as Error).message}`);
  }
  throw new UsageError(`${path}: expected a .csv, .jsonl, .json or .parquet file (got "${ext || 'no extension'}")`);
}

/**
 * Records of a `.parquet` file (hyparquet), typed by the file's own schema: INT64 as numbers,
 * timestamps as ISO 8601 strings (hyparquet's toJson), a null cell as a missing field (as an
 * empty CSV cell is). Any other extension: readRecords.
 */
export async function readAnyRecords(cwd: string, path: string): Promise<{ rows: Record<string, unknown>[]; csv: boolean; parquet: boolean }> {
  if (extname(path).toLowerCase() !== '.parquet') return { ...readRecords(cwd, path), parquet: false };
  let bytes: Buffer;
  try {
    bytes = readFileSync(resolve(cwd, path));
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  let rows: Record<string, unknown>[];
  try {
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    rows = (await parquetReadObjects({ file })).map((row) => toJson(row) as Record<string, unknown>);
  } catch (error) {
    throw new UsageError(`${path}: not a readable Parquet file (${(error as Error).message})`);
  }
  return { rows: rows.map((row) => Object.fromEntries(Object.entries(row).filter(([, value]) => value !== null))), csv: false, parquet: true };
}
