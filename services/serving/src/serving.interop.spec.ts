import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join, resolve } from 'node:path';
import { interopPython } from '../../../test/support/python';
import { makeTestModels, type TestModels } from '../test/models';
import { prefixProxy } from '../test/prefix-proxy';
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

const fixture = (name: string) => resolve(__dirname, '../../../test/fixtures/serving', name);

/** Runs a client script with the interop interpreter (asynchronously: the server runs in this process's event loop). */
async function runClient(script: string, args: string[]): Promise<Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const { stdout } = await promisify(execFile)(interopPython(), [fixture(script), ...args], { encoding: 'utf8' });
  return JSON.parse(stdout);
}

describe('serving: interop with tritonclient.grpc extensions (stream_infer, statistics, repository, config)', () => {
  let models: TestModels;
  let serving: ServingApp;

  beforeAll(async () => {
    models = makeTestModels(interopPython());
    serving = await startServing(loadServingConfig({ SERVING_GRPC_PORT: '0', SERVING_MODELS: `churn=${models.logregV1}` }), { logger: false });
  }, 60_000);
  afterAll(() => serving?.close());

  it('stream_infer ties each answer to its request id; statistics, config, load_model/unload_model and the repository index work', async () => {
    const report = await runClient('triton_grpc_extensions_check.py', [serving.address, 'churn', join(models.dir, 'expected.json'), 'logreg_v1', models.logregV2]);
    const rows = models.expected.logreg_v1.rows.length;
    expect(report.stream.ids).toEqual(Array.from({ length: rows }, (_, i) => `stream-${i}`).sort());
    expect(report.stream.max_abs_error).toBeLessThan(1e-5);
    expect(report.stream.errors).toEqual([expect.stringMatching(/input tensor 'input': shape \[1,29\]/)]);
    expect(report.statistics).toMatchObject({ name: 'churn', version: '1', success: rows, fail: 1, inference_count: rows });
    expect(report.statistics.compute_infer_ns).toBeGreaterThan(0);
    expect(report.config).toEqual({ name: 'churn', max_batch_size: 64, input: [{ name: 'input', data_type: 'TYPE_FP32', dims: ['30'] }] });
    expect(report.after_load.ready_v2).toBe(true);
    expect(report.after_load.index).toEqual([
      { name: 'churn', version: '1', state: 'READY' },
      { name: 'churn', version: '2', state: 'READY' },
    ]);
    expect(report.after_unload.ready).toBe(false);
    expect(report.after_unload.index).toEqual([
      { name: 'churn', version: '1', state: 'UNAVAILABLE', reason: 'unloaded' },
      { name: 'churn', version: '2', state: 'UNAVAILABLE', reason: 'unloaded' },
    ]);
    expect(report.load_unknown).toMatchObject({ status: 'StatusCode.NOT_FOUND', message: expect.stringContaining("model 'no-such-model' is not in this server's repository") });
    expect(report.reloaded_ready).toBe(true);
  }, 60_000);
});

describe('serving: interop with tritonclient.http and KServe InferenceRESTClient (v2 REST)', () => {
  let models: TestModels;
  let serving: ServingApp;

  beforeAll(async () => {
    models = makeTestModels(interopPython());
    serving = await startServing(loadServingConfig({ SERVING_GRPC_PORT: '0', SERVING_HTTP_PORT: '0', SERVING_MODELS: `churn=${models.logregV1}` }), { logger: false });
  }, 60_000);
  afterAll(() => serving?.close());

  it('KServe InferenceRESTClient (protocol v2): health, model ready, infer with JSON and binary inputs, errors', async () => {
    const report = await runClient('kserve_rest_check.py', [`http://127.0.0.1:${serving.httpPort}`, 'churn', join(models.dir, 'expected.json'), 'logreg_v1']);
    expect(report).toMatchObject({ live: true, ready: true, model_ready: true, unknown_model_ready: false });
    for (const mode of ['json', 'binary']) {
      expect(report[mode]).toMatchObject({ id: `kserve-${mode === 'binary' ? 'True' : 'False'}`, model_name: 'churn', labels: models.expected.logreg_v1.label });
      expect(report[mode].max_abs_error).toBeLessThan(1e-5);
    }
    expect(report.bad_shape).toEqual({ status: 400, message: expect.stringMatching(/input tensor 'input': shape \[1,29\].*expects \[-1,30\]/) });
  }, 60_000);

  it.each([
    ['on its port', ''],
    ['behind a proxy that mounts it under /serving (as the front door does)', '/serving'],
  ])('tritonclient.http %s: metadata, config, binary and JSON tensors, gzip, errors, statistics, repository index, unload/load', async (_, prefix) => {
    const proxy = prefix ? await prefixProxy(serving.httpPort!, prefix) : undefined;
    const url = `127.0.0.1:${proxy?.port ?? serving.httpPort}${prefix}`;
    const report = await runClient('triton_http_check.py', [url, 'churn', join(models.dir, 'expected.json'), 'logreg_v1']).finally(() => proxy?.close());
    expect(report).toMatchObject({ live: true, ready: true, model_ready: true });
    expect(report.server_metadata).toEqual({
      name: 'mlops-serving',
      version: '0.1.0',
      extensions: ['binary_tensor_data', 'model_repository', 'statistics', 'model_configuration'],
    });
    expect(report.metadata).toMatchObject({ name: 'churn', versions: ['1'], inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 30] }] });
    expect(report.config).toMatchObject({ name: 'churn', max_batch_size: 64 });
    expect(report.binary).toMatchObject({ id: 'http-binary', labels_match: true, binary_outputs: ['label', 'probabilities'] });
    expect(report.binary.max_abs_error).toBeLessThan(1e-5);
    expect(report.json).toMatchObject({ model_version: '1', labels_match: true, binary_outputs: ['label'] });
    expect(report.json.max_abs_error).toBeLessThan(1e-5);
    expect(report.bad_shape).toEqual({ status: '400', message: expect.stringMatching(/input tensor 'input': shape \[1,29\].*expects \[-1,30\]/) });
    expect(report.unknown_model).toEqual({ status: '404', message: expect.stringContaining("model 'no-such-model' is not loaded") });
    expect(report.statistics).toEqual({ success: 2, fail: 1, compute_infer: 2 });
    expect(report.index).toEqual([{ name: 'churn', version: '1', state: 'READY', reason: '' }]);
    expect(report.ready_after_unload).toBe(false);
    expect(report.ready_after_load).toBe(true);
  }, 60_000);
});
