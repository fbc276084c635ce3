import { createHash } from 'node:crypto';
import { Bool, Float64, Table, TimestampMillisecond, Utf8, vectorFromArray, tableToIPC, type DataType, type Vector } from 'apache-arrow';
import type { Scalar } from '../views/feature-row';
import type { FeatureType } from '../views/feature-view';

export interface Column {
  name: string;
  type: FeatureType;
}

export interface ColumnStats {
  type: FeatureType;
  nulls: number;
  distinct: number;
  min: number | string | boolean | null;
  max: number | string | boolean | null;
}

export interface Snapshot {
  bytes: Uint8Array;
  /** sha256 hex of the Arrow IPC file. */
  hash: string;
  rowCount: number;
  stats: Record<string, ColumnStats>;
}

function arrowType(type: FeatureType): DataType {
  switch (type) {
    case 'string':
      return new Utf8();
    case 'boolean':
      return new Bool();
    case 'timestamp':
      return new TimestampMillisecond();
    default:
      // integer columns are float64 too: counts and record integers can exceed int32.
      return new Float64();
  }
}

/** Values as Arrow wants them (timestamps as epoch ms); anything of the wrong type is null. */
function normalise(value: Scalar | undefined, type: FeatureType): Scalar {
  if (value === undefined || value === null) return null;
  switch (type) {
    case 'string':
      return String(value);
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'timestamp': {
      const ms = typeof value === 'number' ? value : Date.parse(String(value));
      return Number.isFinite(ms) ? ms : null;
    }
    default:
      return typeof value === 'number' && Number.isFinite(value) ? value : null;
  }
}

function columnStats(values: Scalar[], type: FeatureType): ColumnStats {
  let nulls = 0;
  let min: Scalar = null;
  let max: Scalar = null;
  const distinct = new Set<Scalar>();
  for (const v of values) {
    if (v === null) {
      nulls++;
      continue;
    }
    distinct.add(v);
    if (min === null || v < min) min = v;
    if (max === null || v > max) max = v;
  }
  const shown = (v: Scalar) => (type === 'timestamp' && typeof v === 'number' ? new Date(v).toISOString() : v);
  return { type, nulls, distinct: distinct.size, min: shown(min), max: shown(max) };
}

/**
 * Encodes rows (already in their canonical order) as an Arrow IPC file. The same rows in
 * the same order give the same bytes, hence the same hash.
 */
export function encodeSnapshot(columns: Column[], rows: Record<string, Scalar>[]): Snapshot {
  const vectors: Record<string, Vector> = {};
  const stats: Record<string, ColumnStats> = {};
  for (const column of columns) {
    const values = rows.map((r) => normalise(r[column.name], column.type));
    vectors[column.name] = vectorFromArray(values, arrowType(column.type)) as Vector;
    stats[column.name] = columnStats(values, column.type);
  }
  const bytes = tableToIPC(new Table(vectors), 'file');
  return { bytes, hash: createHash('sha256').update(bytes).digest('hex'), rowCount: rows.length, stats };
}
