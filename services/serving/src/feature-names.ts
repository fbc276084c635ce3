import { readFile } from 'node:fs/promises';
import protobuf from 'protobufjs';
import type { TensorMetadata } from './model-repository';

/**
 * ModelProto.metadata_props alone (field 14 of onnx.proto): protobuf skips every other field
 * unread, so this reads any ONNX model's metadata without knowing its graph. onnxruntime-node
 * (1.30) does not expose a session's custom metadata, hence this.
 */
const ModelMetadata = protobuf
  .parse(
    `syntax = "proto2";
     package onnx;
     message StringStringEntryProto { optional string key = 1; optional string value = 2; }
     message ModelProto { repeated StringStringEntryProto metadata_props = 14; }`,
    { keepCase: true },
  )
  .root.lookupType('onnx.ModelProto');

/** The key the platform's trainer writes: a JSON array of the input's column names, in order. */
export const FEATURE_NAMES_KEY = 'feature_names';
/** What the built-in trainer wrote before `feature_names` (the same JSON array), still read. */
const LEGACY_KEY = 'features';

/** A model's feature names, or why it has none; `problem` when the model declares names that do not fit it. */
export interface FeatureNaming {
  names?: string[];
  note: string;
  problem?: boolean;
}

/** The metadata_props of an ONNX model's bytes, as key -> value. */
export function onnxMetadataProps(bytes: Uint8Array): Record<string, string> {
  const model = ModelMetadata.toObject(ModelMetadata.decode(bytes), { arrays: true }) as { metadata_props: { key?: string; value?: string }[] };
  return Object.fromEntries(model.metadata_props.map((p) => [p.key ?? '', p.value ?? '']));
}

/**
 * The names of the columns of a model's one input (`[batch, n]`) from its ONNX metadata
 * `feature_names`. A model with none (one registered from outside) has no names; one whose
 * names do not fit its input (not a JSON array of distinct names, not one per column, more
 * than one input) has none either, with the problem said.
 */
export function featureNaming(metadata: Record<string, string>, inputs: readonly TensorMetadata[]): FeatureNaming {
  const key = FEATURE_NAMES_KEY in metadata ? FEATURE_NAMES_KEY : LEGACY_KEY in metadata ? LEGACY_KEY : undefined;
  if (!key) return { note: `no ${FEATURE_NAMES_KEY} in its ONNX metadata: inputs are named by position` };
  const bad = (why: string): FeatureNaming => ({ note: `ONNX metadata ${key} ignored: ${why}`, problem: true });
  let names: unknown;
  try {
    names = JSON.parse(metadata[key]);
  } catch {
    return bad('not JSON');
  }
  if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string' && n !== '')) return bad('expected a JSON array of non-empty strings');
  if (new Set(names).size !== names.length) return bad('a name appears more than once');
  if (inputs.length !== 1) return bad(`the model has ${inputs.length} inputs, names fit a model with one`);
  const [input] = inputs;
  const columns = input.shape.length === 2 ? input.shape[1] : undefined;
  if (columns === undefined || (columns !== -1 && columns !== names.length)) {
    return bad(`${names.length} names for input '${input.name}' of shape [${input.shape.join(',')}] (expected [batch, ${names.length}])`);
  }
  return { names: names as string[], note: `feature names ${(names as string[]).join(', ')} (ONNX metadata ${key})` };
}

/** featureNaming of the model file at `path`. */
export async function featureNamingOfFile(path: string, inputs: readonly TensorMetadata[]): Promise<FeatureNaming> {
  return featureNaming(onnxMetadataProps(await readFile(path)), inputs);
}
