import { readModel } from './graph';
import { ModelProto } from './onnx-proto';

/** The ONNX metadata key of a model's feature names: a JSON array naming the columns of its one input, in order. */
export const FEATURE_NAMES_KEY = 'feature_names';

/** The metadata entry the built-in trainer writes into its models. */
export const featureNamesEntry = (features: readonly string[]) => ({ [FEATURE_NAMES_KEY]: JSON.stringify(features) });

/**
 * The model's bytes with the feature names added to its metadata_props, every other byte as
 * it was: protobuf merges a repeated field that appears again, so the entry is appended as
 * one more field 14 (nothing is decoded and re-encoded, so nothing the subset schema does
 * not know is lost).
 */
function appendFeatureNames(bytes: Uint8Array, features: readonly string[]): Uint8Array {
  const entry = ModelProto.encode(ModelProto.fromObject({ metadata_props: [{ key: FEATURE_NAMES_KEY, value: JSON.stringify(features) }] })).finish();
  return Buffer.concat([bytes, entry]);
}

/**
 * Names the columns of a model another trainer (TRAINER_COMMAND) wrote, with the dataset's
 * feature order it was given: only a model with one `[batch, n]` input, n the number of
 * features (or dynamic), and no feature_names of its own. `bytes` is undefined when the model
 * is left as it is; `note` says what was decided.
 */
export function nameModelFeatures(model: Uint8Array, features: readonly string[]): { bytes?: Uint8Array; note: string } {
  const summary = readModel(model);
  if (FEATURE_NAMES_KEY in summary.metadata) return { note: `model.onnx names its features itself (${FEATURE_NAMES_KEY} ${summary.metadata[FEATURE_NAMES_KEY]})` };
  const inputs = summary.signature.inputs;
  const shape = inputs[0]?.shape ?? [];
  if (inputs.length !== 1 || shape.length !== 2 || (shape[1] !== -1 && shape[1] !== features.length)) {
    const found = inputs.map((i) => `${i.name} [${i.shape.join(',')}]`).join(', ');
    return { note: `model.onnx keeps positional input names: its inputs (${found}) are not one [batch, ${features.length}] tensor of the ${features.length} features` };
  }
  return { bytes: appendFeatureNames(model, features), note: `model.onnx names its input columns ${features.join(', ')} (ONNX metadata ${FEATURE_NAMES_KEY})` };
}
