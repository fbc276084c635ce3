import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join, resolve } from 'node:path';
import { interopPython } from '../../../test/support/python';
import { makeTestModels, type TestModels } from '../test/models';
import { startServing, type ServingApp } from './serving.app';
import { loadServingConfig } from './serving.config';

/** The official Triton Python client (tritonclient[grpc] from PyPI) against our server. */
describe('serving: interop with tritonclient.grpc', () => {
  let models: TestModels;
  let serving: ServingApp;

  beforeAll(async () => {
    models = makeTestModels(interopPython());
    serving = await startServing(
      loadServingConfig({ SERVING_GRPC_PORT: '0', SERVING_MODELS: `churn=${models.logregV1}` }),
      { logger: false },
    );
  }, 60_000);
  afterAll(() => serving?.close());

  it('is_server_live, get_model_metadata, infer (InferInput.set_data_from_numpy) match sklearn; errors come back as statuses', async () => {
    const script = resolve(__dirname, '../../../test/fixtures/serving/triton_client_check.py');
    // Asynchronously: the server runs in this process's event loop.
    const { stdout: output } = await promisify(execFile)(
      interopPython(),
      [script, serving.address, 'churn', join(models.dir, 'expected.json'), 'logreg_v1'],
      { encoding: 'utf8' },
    );
    const report = JSON.parse(output);
    expect(report).toMatchObject({ live: true, ready: true, model_ready: true, live_after_errors: true });
    expect(report.metadata).toEqual({
      name: 'churn',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'input', datatype: 'FP32', shape: ['-1', '30'] }],
      outputs: [
        { name: 'label', datatype: 'INT64', shape: ['-1'] },
        { name: 'probabilities', datatype: 'FP32', shape: ['-1', '2'] },
      ],
    });
    expect(report.response).toMatchObject({
      model_name: 'churn',
      model_version: '1',
      id: 'triton-1',
      parameters: { model_version: { string_param: '1' } },
      shape: [models.expected.logreg_v1.rows.length, 2],
      labels_match: true,
    });
    expect(report.response.max_abs_error).toBeLessThan(1e-5);
    expect(report.bad_shape).toEqual({
      status: 'StatusCode.INVALID_ARGUMENT',
      message: expect.stringMatching(/input tensor 'input': shape \[1,29\].*expects \[-1,30\]/),
    });
    expect(report.unknown_model.status).toBe('StatusCode.NOT_FOUND');
  }, 30_000);
});
