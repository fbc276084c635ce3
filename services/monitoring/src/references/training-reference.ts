import { readFile } from 'node:fs/promises';
import { tableFromIPC } from 'apache-arrow';

/**
 * Up to `limit` rows of a materialized dataset (an Arrow IPC file), evenly spread over it,
 * keyed by feature name: the keys of serving's prediction.logged for a model the platform
 * trained (its ONNX metadata names the columns of its input). Rows with a non-numeric
 * feature are skipped.
 */
export async function trainingReferenceRows(uri: string, features: string[], limit: number): Promise<Record<string, number>[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(uri);
  } catch (error) {
    throw new Error(`training dataset ${uri} is not readable: ${(error as Error).message}`);
  }
  let table: ReturnType<typeof tableFromIPC>;
  try {
    table = tableFromIPC(bytes);
  } catch (error) {
    throw new Error(`training dataset ${uri} is not an Arrow IPC file: ${(error as Error).message}`);
  }
  const columns = features.map((feature) => {
    const column = table.getChild(feature);
    if (!column) throw new Error(`training dataset ${uri} has no column "${feature}" (columns: ${table.schema.fields.map((f) => f.name).join(', ')})`);
    return column;
  });
  const step = Math.max(1, table.numRows / limit);
  const rows: Record<string, number>[] = [];
  for (let at = 0; at < table.numRows && rows.length < limit; at += step) {
    const i = Math.floor(at);
    const row: Record<string, number> = {};
    let numeric = true;
    columns.forEach((column, k) => {
      const value = Number(column.get(i));
      if (!Number.isFinite(value)) numeric = false;
      row[features[k]] = value;
    });
    if (numeric) rows.push(row);
  }
  if (rows.length === 0) throw new Error(`training dataset ${uri} has no row with numeric values for ${features.join(', ')}`);
  return rows;
}
