import * as grpc from '@grpc/grpc-js';
import { EventBus, InProcessTransport, type Subscription } from '@mlops/bus';
import { decodeEvent, type AnyEvent } from '@mlops/contracts';
import { interopPython } from '../../../test/support/python';
import { freePort } from '../../../test/support/service-process';
import { waitFor } from '../../../test/support/wait-for';
import { call, callError, inferenceClient, makeTestModels, type InferenceClient, type TestModels } from '../test/models';
import { startServing, type ServingApp } from './serving.app';
import { loadServingConfig } from './serving.config';

interface StreamResponse {
  error_message: string;
  infer_response: { id: string; model_version: string; outputs: { name: string; contents: { fp32_contents: number[] } }[] };
}

const input = (rows: number[][]) => ({ name: 'input', datatype: 'FP32', shape: [rows.length, 30], contents: { fp32_contents: rows.flat() } });

describe('serving: Triton gRPC extensions (stream, statistics, repository, config)', () => {
  let models: TestModels;
  let serving: ServingApp;
  let client: InferenceClient;
  let observer: EventBus;
  let subscription: Subscription;
  const seen: AnyEvent[] = [];

  beforeAll(async () => {
    models = makeTestModels(interopPython());
    const transport = new InProcessTransport();
    serving = await startServing(loadServingConfig({ SERVING_GRPC_PORT: String(await freePort()), SERVING_MODELS: `churn=${models.logregV1}` }), {
      inProcess: transport,
      logger: false,
    });
    client = inferenceClient(serving.address);
    observer = new EventBus(transport);
    subscription = await observer.subscribe({
      group: 'extensions-observer',
      topics: ['deployment.requested', 'deployment.completed'],
      handle: async (m) => void seen.push(decodeEvent(m.value) as AnyEvent),
    });
  }, 60_000);
  afterAll(async () => {
    client?.close();
    await subscription?.stop();
    await serving?.close();
  });

  it('ModelStreamInfer answers each request on the stream with its id; a bad one gets error_message and the stream goes on', async () => {
    const { rows, probabilities } = models.expected.logreg_v1;
    const stream = client.ModelStreamInfer() as grpc.ClientDuplexStream<unknown, StreamResponse>;
    const responses: StreamResponse[] = [];
    stream.on('data', (r: StreamResponse) => responses.push(r));
    const ended = new Promise<void>((done, fail) => {
      stream.on('end', done);
      stream.on('error', fail);
    });
    stream.write({ model_name: 'churn', id: 'stream-1', inputs: [input(rows)] });
    stream.write({ model_name: 'churn', id: 'stream-2', inputs: [{ ...input(rows), name: 'features' }] });
    stream.write({ model_name: 'churn', id: 'stream-3', inputs: [input(rows.slice(0, 1))], outputs: [{ name: 'probabilities' }] });
    stream.end();
    await ended;
    const byId = new Map(responses.map((r) => [r.infer_response.id, r]));
    expect([...byId.keys()].sort()).toEqual(['stream-1', 'stream-2', 'stream-3']);
    expect(byId.get('stream-1')!.error_message).toBe('');
    const probs = byId.get('stream-1')!.infer_response.outputs.find((o) => o.name === 'probabilities')!;
    probs.contents.fp32_contents.forEach((v, i) => expect(Math.abs(v - probabilities.flat()[i])).toBeLessThanOrEqual(1e-5));
    expect(byId.get('stream-2')!.error_message).toMatch(/unexpected input tensor 'features'/);
    expect(byId.get('stream-3')!.infer_response.outputs.map((o) => o.name)).toEqual(['probabilities']);
  });

  it('ModelStatistics counts the stream requests per version, with Triton durations', async () => {
    const response = await call<{ model_stats: Record<string, any>[] }>(client, 'ModelStatistics', { name: 'churn' }); // eslint-disable-line @typescript-eslint/no-explicit-any
    const [stats] = response.model_stats;
    expect(stats).toMatchObject({ name: 'churn', version: '1' });
    expect(stats.inference_stats.success.count).toBe('2');
    expect(stats.inference_stats.fail.count).toBe('1');
    expect(Number(stats.inference_count)).toBe(models.expected.logreg_v1.rows.length + 1);
    expect(Number(stats.inference_stats.compute_infer.ns)).toBeGreaterThan(0);
    expect(Number(stats.execution_count)).toBeGreaterThanOrEqual(1);
    expect(stats.batch_stats.length).toBeGreaterThanOrEqual(1);
    expect((await callError(client, 'ModelStatistics', { name: 'nope' })).code).toBe(grpc.status.NOT_FOUND);
  });

  it('ModelConfig reports max_batch_size, dims without the batch dimension and dynamic batching', async () => {
    const { config } = await call<{ config: Record<string, unknown> }>(client, 'ModelConfig', { name: 'churn' });
    expect(config).toMatchObject({
      name: 'churn',
      platform: 'onnxruntime_onnx',
      max_batch_size: 64,
      input: [{ name: 'input', data_type: 'TYPE_FP32', dims: ['30'] }],
      dynamic_batching: { max_queue_delay_microseconds: '500' },
    });
  });

  it('RepositoryModelLoad deploys a version (deployment.requested on the bus) and answers once it is served here', async () => {
    await call(client, 'RepositoryModelLoad', {
      model_name: 'churn',
      parameters: { version: { int64_param: 2 }, artifact_uri: { string_param: `file://${models.logregV2}` } },
    });
    // Answered after the load: ready at once, no wait.
    expect(await call(client, 'ModelReady', { name: 'churn', version: '2' })).toEqual({ ready: true });
    expect(await call(client, 'ModelMetadata', { name: 'churn' })).toMatchObject({ versions: ['1', '2'] });
    await waitFor(() => seen.some((e) => e.type === 'deployment.completed' && e.data.version === 2), 'deployment.completed of churn version 2', 10_000);
    expect(seen.find((e) => e.type === 'deployment.requested')).toMatchObject({ source: 'serving', data: { model: 'churn', version: 2, strategy: 'full' } });
    const index = await call<{ models: { name: string; version: string; state: string }[] }>(client, 'RepositoryIndex', {});
    expect(index.models.map((m) => `${m.name}/${m.version}/${m.state}`)).toEqual(['churn/1/READY', 'churn/2/READY']);
  });

  it('RepositoryModelUnload drains the model; a load with no parameters brings back its newest version', async () => {
    await call(client, 'RepositoryModelUnload', { model_name: 'churn' });
    expect(await call(client, 'ModelReady', { name: 'churn' })).toEqual({ ready: false });
    const index = await call<{ models: { name: string; version: string; state: string; reason: string }[] }>(client, 'RepositoryIndex', {});
    expect(index.models.map((m) => `${m.name}/${m.version}/${m.state}/${m.reason}`)).toEqual(['churn/1/UNAVAILABLE/unloaded', 'churn/2/UNAVAILABLE/unloaded']);
    expect((await call<{ models: unknown[] }>(client, 'RepositoryIndex', { ready: true })).models).toEqual([]);
    expect((await callError(client, 'ModelInfer', { model_name: 'churn', inputs: [input(models.expected.logreg_v1.rows)] })).code).toBe(grpc.status.NOT_FOUND);

    await call(client, 'RepositoryModelLoad', { model_name: 'churn' });
    expect(await call(client, 'ModelReady', { name: 'churn', version: '2' })).toEqual({ ready: true });
    expect(await call(client, 'ModelReady', { name: 'churn', version: '1' })).toEqual({ ready: false });
  });

  it('refuses loads it cannot do, naming what is wrong, and loads nothing', async () => {
    const unknown = await callError(client, 'RepositoryModelLoad', { model_name: 'fraud' });
    expect(unknown.code).toBe(grpc.status.NOT_FOUND);
    expect(unknown.details).toMatch(/model 'fraud' is not in this server's repository; name the version to deploy and its artifact/);
    const badParameter = await callError(client, 'RepositoryModelLoad', { model_name: 'churn', parameters: { replicas: { int64_param: 2 } } });
    expect(badParameter.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(badParameter.details).toMatch(/replicas: is not a load parameter/);
    const badConfig = await callError(client, 'RepositoryModelLoad', { model_name: 'churn', parameters: { config: { string_param: '{"version": 0}' } } });
    expect(badConfig.details).toMatch(/version: expected a version number >= 1/);
    const missing = await callError(client, 'RepositoryModelLoad', {
      model_name: 'churn',
      parameters: { config: { string_param: JSON.stringify({ version: 5, artifact_uri: '/nonexistent/churn.onnx' }) } },
    });
    expect(missing.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(missing.details).toMatch(/load of model 'churn' version 5 failed: .*cannot load \/nonexistent\/churn.onnx/);
    expect(await call(client, 'ModelReady', { name: 'churn', version: '5' })).toEqual({ ready: false });
    expect((await callError(client, 'RepositoryModelUnload', { model_name: 'fraud' })).code).toBe(grpc.status.NOT_FOUND);
  });
});

describe('serving: repository extension with API_TOKEN', () => {
  let serving: ServingApp;
  let client: InferenceClient;

  beforeAll(async () => {
    const models = makeTestModels(interopPython());
    serving = await startServing(
      loadServingConfig({ SERVING_GRPC_PORT: String(await freePort()), SERVING_MODELS: `churn=${models.logregV1}`, API_TOKEN: 'serving-ext-token-0123456789' }),
      { inProcess: new InProcessTransport(), logger: false },
    );
    client = inferenceClient(serving.address);
  }, 60_000);
  afterAll(async () => {
    client?.close();
    await serving?.close();
  });

  it('refuses RepositoryModelUnload and RepositoryModelLoad without the token, and unloads nothing', async () => {
    expect((await callError(client, 'RepositoryModelUnload', { model_name: 'churn' })).code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await callError(client, 'RepositoryModelLoad', { model_name: 'churn' })).code).toBe(grpc.status.UNAUTHENTICATED);
    expect(serving.repository.versions('churn')).toEqual([1]);
  });
});
