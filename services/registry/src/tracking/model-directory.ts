import { createHash } from 'node:crypto';
import { parse } from 'yaml';
import type { ModelFiles } from './tracking-client';

/** What a model directory holds for serving: its ONNX bytes, or why there are none. */
export type ModelDirectory = { onnx: { file: string; bytes: Buffer } } | { onnx: undefined; flavors: string[] };

/** The MLmodel file's flavors (`{}` when there is no MLmodel or it is not YAML). */
function flavorsOf(files: ModelFiles): Record<string, { data?: unknown; model_file?: unknown } | null> {
  const mlmodel = files.get('MLmodel');
  if (!mlmodel) return {};
  try {
    const parsed = parse(mlmodel.toString('utf8')) as { flavors?: Record<string, { data?: unknown } | null> } | null;
    return parsed?.flavors && typeof parsed.flavors === 'object' ? parsed.flavors : {};
  } catch {
    return {};
  }
}

/**
 * The ONNX model of an MLflow model directory: the file named by the MLmodel's `onnx` flavor
 * (`data`, as mlflow.onnx.save_model writes it), else the only .onnx file in the directory.
 */
export function readModelDirectory(files: ModelFiles): ModelDirectory {
  const flavors = flavorsOf(files);
  const data = flavors.onnx?.data;
  if (typeof data === 'string' && files.has(data)) return { onnx: { file: data, bytes: files.get(data)! } };
  const onnxFiles = [...files.keys()].filter((path) => path.toLowerCase().endsWith('.onnx')).sort();
  if (onnxFiles.length === 1) return { onnx: { file: onnxFiles[0], bytes: files.get(onnxFiles[0])! } };
  return { onnx: undefined, flavors: Object.keys(flavors) };
}

/** sha256 of a directory's files (sorted paths and their bytes): the identity of a model that is not ONNX. */
export function directoryHash(files: ModelFiles): string {
  const hash = createHash('sha256');
  for (const path of [...files.keys()].sort()) {
    hash.update(path).update('\0').update(files.get(path)!).update('\0');
  }
  return hash.digest('hex');
}
