import { parse } from 'yaml';
import { mlflowSignature, mlmodelYaml } from './mlflow-model';

const signature = {
  inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 3] }],
  outputs: [
    { name: 'label', datatype: 'INT64', shape: [-1] },
    { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
  ],
};

describe('the MLmodel file of a trained model (as mlflow.onnx.save_model writes it)', () => {
  it('has the onnx and python_function flavors, the tensor-spec signature and the feature names', () => {
    const mlmodel = parse(
      mlmodelYaml({
        modelId: 'm-0123',
        runId: 'r1',
        artifactPath: 'mlflow-artifacts:/1/models/m-0123/artifacts',
        signature,
        irVersion: 8,
        modelSizeBytes: 42,
        featureNames: ['a', 'b', 'c'],
        now: new Date('2026-01-02T03:04:05.678Z'),
      }),
    );
    expect(mlmodel).toEqual({
      artifact_path: 'mlflow-artifacts:/1/models/m-0123/artifacts',
      flavors: {
        onnx: { code: null, data: 'model.onnx', onnx_session_options: null, onnx_version: '1.10.0', providers: ['CPUExecutionProvider'] },
        python_function: { data: 'model.onnx', loader_module: 'mlflow.onnx' },
      },
      is_signature_from_type_hint: false,
      metadata: { feature_names: ['a', 'b', 'c'] },
      model_id: 'm-0123',
      model_size_bytes: 42,
      model_uuid: '0123',
      run_id: 'r1',
      signature: {
        inputs: '[{"name":"input","type":"tensor","tensor-spec":{"dtype":"float32","shape":[-1,3]}}]',
        outputs:
          '[{"name":"label","type":"tensor","tensor-spec":{"dtype":"int64","shape":[-1]}},{"name":"probabilities","type":"tensor","tensor-spec":{"dtype":"float32","shape":[-1,2]}}]',
        params: null,
      },
      type_hint_from_example: false,
      utc_time_created: '2026-01-02 03:04:05.678',
    });
  });

  it('leaves the signature out when a tensor has no numpy dtype (a map output), as MLflow does', () => {
    const mapOutput = { ...signature, outputs: [{ name: 'output_probability', datatype: 'UNKNOWN', shape: [-1] }] };
    expect(mlflowSignature(mapOutput)).toBeUndefined();
    const mlmodel = parse(mlmodelYaml({ modelId: 'm-1', runId: 'r', artifactPath: 'x', signature: mapOutput, irVersion: 99, modelSizeBytes: 1 }));
    expect(mlmodel.signature).toBeUndefined();
    expect(mlmodel.metadata).toBeUndefined();
    expect(mlmodel.flavors.onnx.onnx_version).toBe('1.16.0');
  });
});
