import { stringify } from 'yaml';
import type { Signature, TensorSpec } from '../onnx/graph';

/** The first onnx release that writes each IR version (onnx.helper.VERSION_TABLE): the MLmodel's onnx_version. */
const ONNX_RELEASE_OF_IR: Record<number, string> = { 3: '1.0', 4: '1.4.1', 5: '1.5.0', 6: '1.6.0', 7: '1.7.0', 8: '1.10.0', 9: '1.14.0', 10: '1.16.0' };

/** KServe v2 datatypes as the numpy dtypes of MLflow's tensor specs. */
const NUMPY_DTYPE: Record<string, string> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'object',
};

const tensorSpecJson = (specs: TensorSpec[]): string =>
  JSON.stringify(specs.map((s) => ({ name: s.name, type: 'tensor', 'tensor-spec': { dtype: NUMPY_DTYPE[s.datatype], shape: s.shape } })));

/**
 * The MLmodel `signature` (inputs and outputs as MLflow's tensor-spec JSON, what
 * `Schema.to_json()` writes); undefined when a tensor's datatype has no numpy dtype (e.g. a
 * sequence or map output), as MLflow then logs no signature either.
 */
export function mlflowSignature(signature: Signature): { inputs: string; outputs: string; params: null } | undefined {
  if ([...signature.inputs, ...signature.outputs].some((s) => !NUMPY_DTYPE[s.datatype])) return undefined;
  return { inputs: tensorSpecJson(signature.inputs), outputs: tensorSpecJson(signature.outputs), params: null };
}

export interface MlflowModelInput {
  modelId: string;
  runId: string;
  /** The logged model's artifact location (mlflow-artifacts:/...). */
  artifactPath: string;
  signature: Signature;
  irVersion: number;
  modelSizeBytes: number;
  /** The input columns in order, when the trainer knows them. */
  featureNames?: string[];
  now?: Date;
}

/**
 * The MLmodel file mlflow.onnx.save_model writes for a model.onnx: the `onnx` flavor (data,
 * onnx_version, CPU provider) and the `python_function` flavor loading through mlflow.onnx,
 * the signature as tensor specs (see mlflowSignature), and the feature names as metadata. No conda/virtualenv
 * files: mlflow.onnx.load_model and pyfunc.load_model do not need them.
 */
export function mlmodelYaml(input: MlflowModelInput): string {
  const created = (input.now ?? new Date()).toISOString().replace('T', ' ').replace('Z', '');
  return stringify({
    artifact_path: input.artifactPath,
    flavors: {
      onnx: {
        code: null,
        data: 'model.onnx',
        onnx_session_options: null,
        onnx_version: ONNX_RELEASE_OF_IR[input.irVersion] ?? ONNX_RELEASE_OF_IR[10],
        providers: ['CPUExecutionProvider'],
      },
      python_function: { data: 'model.onnx', loader_module: 'mlflow.onnx' },
    },
    is_signature_from_type_hint: false,
    ...(input.featureNames?.length ? { metadata: { feature_names: input.featureNames } } : {}),
    model_id: input.modelId,
    model_size_bytes: input.modelSizeBytes,
    model_uuid: input.modelId.replace(/^m-/, ''),
    run_id: input.runId,
    ...(mlflowSignature(input.signature) ? { signature: mlflowSignature(input.signature) } : {}),
    type_hint_from_example: false,
    utc_time_created: created,
  });
}
