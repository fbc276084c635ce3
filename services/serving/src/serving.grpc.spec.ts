import { status } from '@grpc/grpc-js';
import { EventBus, InProcessTransport, type Subscription } from '@mlops/bus';
import { createEvent, decodeEvent, decodePredictionTensors, PredictionRows, type EventEnvelope } from '@mlops/contracts';
import { interopPython } from '../../../test/support/python';
import { freePort } from '../../../test/support/service-process';
import { waitFor } from '../../../test/support/wait-for';
import { call, callError, float32Raw, inferenceClient, makeTestModels, type InferenceClient, type TestModels } from '../test/models';
import { keyFraction } from './traffic-split';
import { startServing, type ServingApp } from './serving.app';
import { loadServingConfig } from './serving.config';

interface OutputTensor {
  name: string;
  datatype: string;
  shape: string[];
  contents: { fp32_contents: number[]; int64_contents: string[] };
}
interface InferResponse {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, { string_param?: string; parameter_choice: string }>;
  outputs: OutputTensor[];
  raw_output_contents: Buffer[];
}

const typedInput = (rows: number[][], name = 'input') => ({
  name,
  datatype: 'FP32',
  shape: [rows.length, rows[0].length],
  contents: { fp32_contents: rows.flat() },
});

/** Collects the events of one type that `bus` sees, from a plain subscription decoded with the contract. */
function collect<T extends 'prediction.logged' | 'deployment.completed'>(bus: EventBus, group: string, type: T, into: EventEnvelope<T>[]): Promise<Subscription> {
  return bus.subscribe({
    group,
    topics: [type],
    handle: async (m) => {
      const event = decodeEvent(m.value);
      if (event.type === type) into.push(event as EventEnvelope<T>);
    },
  });
}

function expectClose(actual: ArrayLike<number>, expected: number[], tolerance = 1e-5) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i] - expected[i])).toBeLessThanOrEqual(tolerance);
}

describe('serving: KServe v2 gRPC (in-process bus, real onnxruntime, sklearn models)', () => {
  let models: TestModels;
  let transport: InProcessTransport;
  let serving: ServingApp;
  let client: InferenceClient;
  let observer: EventBus;
  let subscription: Subscription;
  const logged: EventEnvelope<'prediction.logged'>[] = [];
  const MAX_MESSAGE = 256 * 1024;

  beforeAll(async () => {
    models = makeTestModels(interopPython());
    transport = new InProcessTransport();
    serving = await startServing(
      loadServingConfig({
        SERVING_GRPC_PORT: String(await freePort()),
        SERVING_MODELS: `churn=${models.logregV1},churn:2=${models.logregV2},house=${models.linreg}`,
        SERVING_MAX_MESSAGE_BYTES: String(MAX_MESSAGE),
        SERVING_BATCH_DELAY_US: '2000',
      }),
      { inProcess: transport, logger: false },
    );
    client = inferenceClient(serving.address);
    observer = new EventBus(transport);
    subscription = await collect(observer, 'observer', 'prediction.logged', logged);
  }, 60_000);
  afterAll(async () => {
    client?.close();
    await subscription?.stop();
    await serving?.close();
  });

  it('is live and ready, and says who it is', async () => {
    expect(await call(client, 'ServerLive', {})).toEqual({ live: true });
    expect(await call(client, 'ServerReady', {})).toEqual({ ready: true });
    expect(await call(client, 'ModelReady', { name: 'churn', version: '2' })).toEqual({ ready: true });
    expect(await call(client, 'ModelReady', { name: 'churn', version: '9' })).toEqual({ ready: false });
    expect(await call(client, 'ModelReady', { name: 'nope' })).toEqual({ ready: false });
    expect(await call(client, 'ServerMetadata', {})).toMatchObject({ name: 'mlops-serving', extensions: ['binary_tensor_data', 'model_repository', 'statistics', 'model_configuration'] });
  });

  it('describes a model from its ONNX session: v2 datatypes, -1 for dynamic dimensions, all versions, feature names from its ONNX metadata', async () => {
    expect(await call(client, 'ModelMetadata', { name: 'churn' })).toEqual({
      name: 'churn',
      versions: ['1', '2'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'input', datatype: 'FP32', shape: ['-1', '30'] }],
      outputs: [
        { name: 'label', datatype: 'INT64', shape: ['-1'] },
        { name: 'probabilities', datatype: 'FP32', shape: ['-1', '2'] },
      ],
      parameters: {},
    });
    expect(await call(client, 'ModelMetadata', { name: 'house', version: '1' })).toMatchObject({
      inputs: [{ name: 'x', datatype: 'FP32', shape: ['-1', '4'] }],
      outputs: [{ name: 'variable', datatype: 'FP32', shape: ['-1', '1'] }],
      parameters: { feature_names: { parameter_choice: 'string_param', string_param: '["rooms","area","age","distance"]' } },
    });
  });

  it('infers with typed contents: sklearn probabilities within 1e-5, latest version by default', async () => {
    const { rows, probabilities, label } = models.expected.logreg_v2;
    const response = await call<InferResponse>(client, 'ModelInfer', { model_name: 'churn', id: 'typed-1', inputs: [typedInput(rows)] });
    expect(response).toMatchObject({ model_name: 'churn', model_version: '2', id: 'typed-1' });
    expect(response.parameters.model_version).toMatchObject({ string_param: '2' });
    const [labels, probs] = response.outputs;
    expect(probs).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: [String(rows.length), '2'] });
    expectClose(probs.contents.fp32_contents, probabilities.flat());
    expect(labels.contents.int64_contents.map(Number)).toEqual(label);
    expect(response.raw_output_contents).toEqual([]);
  });

  it('infers with raw little-endian contents and answers raw, a named version, requested outputs only', async () => {
    const { rows, probabilities } = models.expected.logreg_v1;
    const response = await call<InferResponse>(client, 'ModelInfer', {
      model_name: 'churn',
      model_version: '1',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, 30] }],
      outputs: [{ name: 'probabilities' }],
      raw_input_contents: [float32Raw(rows)],
    });
    expect(response.model_version).toBe('1');
    expect(response.parameters.model_version.string_param).toBe('1');
    expect(response.outputs.map((o) => o.name)).toEqual(['probabilities']);
    const raw = response.raw_output_contents[0];
    expectClose(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)), probabilities.flat());
  });

  it('serves several models at once (a regression next to the classifier)', async () => {
    const { rows, variable } = models.expected.linreg;
    const response = await call<InferResponse>(client, 'ModelInfer', { model_name: 'house', inputs: [typedInput(rows, 'x')] });
    // float32 arithmetic: 1e-5 relative to the largest value
    expectClose(response.outputs[0].contents.fp32_contents, variable, 1e-5 * Math.max(...variable.map(Math.abs)));
  });

  it('batches concurrent requests dynamically and returns each caller exactly its rows', async () => {
    const { rows, probabilities } = models.expected.logreg_v1;
    const model = serving.repository.resolve('churn', '1');
    const before = { ...model.batcher.stats };
    const responses = await Promise.all(
      rows.map((row, i) =>
        call<InferResponse>(client, 'ModelInfer', { model_name: 'churn', model_version: '1', id: `b${i}`, inputs: [typedInput([row])] }),
      ),
    );
    responses.forEach((response, i) => {
      expect(response.id).toBe(`b${i}`);
      expectClose(response.outputs[1].contents.fp32_contents, probabilities[i]);
    });
    const runs = model.batcher.stats.runs - before.runs;
    expect(runs).toBeLessThan(rows.length);
    expect(model.batcher.stats.coalescedRuns).toBeGreaterThan(before.coalescedRuns);
  });

  it('rejects bad input with INVALID_ARGUMENT naming the tensor and what was expected', async () => {
    const [row] = models.expected.logreg_v1.rows;
    const cases: [unknown, RegExp][] = [
      [{ model_name: 'churn', inputs: [typedInput([row], 'features')] }, /unexpected input tensor 'features'.*'input'/],
      [{ model_name: 'churn', inputs: [] }, /missing input tensor 'input' \(FP32 \[-1,30\]\)/],
      [{ model_name: 'churn', inputs: [{ ...typedInput([row]), datatype: 'FP64' }] }, /'input': datatype 'FP64'.*expects FP32/],
      [{ model_name: 'churn', inputs: [typedInput([row.slice(0, 29)])] }, /'input': shape \[1,29\].*expects \[-1,30\]/],
      [
        { model_name: 'churn', inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 30] }], raw_input_contents: [float32Raw([row])] },
        /'input': raw_input_contents has 120 bytes, expected 240/,
      ],
      [{ model_name: 'churn', inputs: [typedInput([row])], outputs: [{ name: 'proba' }] }, /requested output tensor 'proba'/],
    ];
    for (const [request, message] of cases) {
      const error = await callError(client, 'ModelInfer', request);
      expect(error.code, String(message)).toBe(status.INVALID_ARGUMENT);
      expect(error.details).toMatch(message);
    }
  });

  it('answers NOT_FOUND for an unknown model or version', async () => {
    const [row] = models.expected.logreg_v1.rows;
    const unknownModel = await callError(client, 'ModelInfer', { model_name: 'nope', inputs: [typedInput([row])] });
    expect(unknownModel).toMatchObject({ code: status.NOT_FOUND, details: expect.stringContaining("model 'nope' is not loaded") });
    const unknownVersion = await callError(client, 'ModelInfer', { model_name: 'churn', model_version: '7', inputs: [typedInput([row])] });
    expect(unknownVersion).toMatchObject({ code: status.NOT_FOUND, details: expect.stringMatching(/no version '7' \(loaded versions: 1, 2\)/) });
    expect((await callError(client, 'ModelMetadata', { name: 'nope' })).code).toBe(status.NOT_FOUND);
  });

  it('refuses a message over SERVING_MAX_MESSAGE_BYTES with RESOURCE_EXHAUSTED (grpc itself)', async () => {
    const rows = Array.from({ length: 3_000 }, () => Array(30).fill(0.5));
    const error = await callError(client, 'ModelInfer', {
      model_name: 'churn',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, 30] }],
      raw_input_contents: [float32Raw(rows)],
    });
    expect(error.code).toBe(status.RESOURCE_EXHAUSTED);
  });

  it('keeps serving after every kind of error', async () => {
    const { rows, probabilities } = models.expected.logreg_v1;
    expect(await call(client, 'ServerLive', {})).toEqual({ live: true });
    const response = await call<InferResponse>(client, 'ModelInfer', { model_name: 'churn', model_version: '1', inputs: [typedInput(rows)] });
    expectClose(response.outputs[1].contents.fp32_contents, probabilities.flat());
  });

  it('publishes prediction.logged per request (its tensors, every row sampled), off the response path', async () => {
    const rows = models.expected.logreg_v2.rows.slice(0, 3);
    const response = await call(client, 'ModelInfer', { model_name: 'churn', id: 'logged-1', inputs: [typedInput(rows)] });
    // The response names the rows' prediction ids (comma-separated), as prediction.logged does.
    expect((response.parameters as Record<string, { string_param: string }>).prediction_ids.string_param).toBe('logged-1:0,logged-1:1,logged-1:2');
    const event = await waitFor(() => logged.find((e) => e.data.requestKey === 'logged-1'), 'the prediction.logged event');
    expect(event).toMatchObject({ source: 'serving', subject: 'churn', data: { schemaVersion: 2, model: 'churn', version: 2, rows: [0, 1, 2] } });
    if (event.data.schemaVersion !== 2) throw new Error('v2 expected');
    expect(event.data.predictionIds).toEqual(['logged-1:0', 'logged-1:1', 'logged-1:2']);
    const view = new PredictionRows(decodePredictionTensors(event.data));
    const first = view.fillInputs(0, {});
    expect(first['input[0]']).toBeCloseTo(rows[0][0], 5);
    expect(Object.keys(first)).toHaveLength(30);
    expect(view.outputs(0).label).toBe(models.expected.logreg_v2.label[0]);
    expectClose(view.outputs(0).probabilities as number[], models.expected.logreg_v2.probabilities[0]);
    expect(event.data.latencyMs).toBeGreaterThanOrEqual(0);
    expect(serving.predictions.stats.dropped).toBe(0);
  });

  it('a ModelInfer without an id gets a generated request id: the ids it returns are the ones it logged', async () => {
    const rows = models.expected.logreg_v2.rows.slice(0, 2);
    const response = await call(client, 'ModelInfer', { model_name: 'churn', inputs: [typedInput(rows)] });
    const returned = (response.parameters as Record<string, { string_param: string }>).prediction_ids.string_param.split(',');
    expect(returned).toHaveLength(2);
    const [requestId] = returned[0].split(':');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(returned).toEqual([`${requestId}:0`, `${requestId}:1`]);
    const event = await waitFor(() => logged.find((e) => e.data.schemaVersion === 2 && e.data.predictionIds.includes(returned[0])), 'prediction.logged of the id-less request');
    expect(event.data.schemaVersion === 2 && event.data.predictionIds).toEqual(returned);
  });

  it('logs the rows of a model with feature names keyed by them, in the order of its input columns', async () => {
    const rows = models.expected.linreg.rows.slice(0, 2);
    await call(client, 'ModelInfer', { model_name: 'house', id: 'named-1', inputs: [typedInput(rows, 'x')] });
    const event = await waitFor(() => logged.find((e) => e.data.requestKey === 'named-1'), 'the prediction.logged event');
    if (event.data.schemaVersion !== 2) throw new Error('v2 expected');
    expect(event.data.inputs[0]).toMatchObject({ name: 'x', shape: [2, 4], featureNames: models.expected.linreg.feature_names });
    const row = new PredictionRows(decodePredictionTensors(event.data)).fillInputs(1, {});
    expect(Object.keys(row)).toEqual(['rooms', 'area', 'age', 'distance']);
    expect(row.distance).toBeCloseTo(rows[1][3], 5);
  });

  it('hot-swaps on deployment.requested: loads and warms the artifact, then answers with the new version', async () => {
    const completed: EventEnvelope<'deployment.completed'>[] = [];
    const watch = await collect(observer, 'deploy-observer', 'deployment.completed', completed);
    try {
      const request = { model_name: 'churn', inputs: [typedInput(models.expected.logreg_v1.rows)] };
      expect((await call<InferResponse>(client, 'ModelInfer', request)).model_version).toBe('2');
      await observer.publish(
        createEvent('deployment.requested', {
          source: 'registry',
          subject: 'churn',
          data: { model: 'churn', version: 3, artifactUri: `file://${models.logregV1}`, strategy: 'full' },
        }),
      );
      const done = await waitFor(() => completed.find((e) => e.data.version === 3), 'deployment.completed');
      expect(done.data).toMatchObject({ model: 'churn', status: 'serving', trafficShare: 1 });
      const response = await call<InferResponse>(client, 'ModelInfer', request);
      expect(response.model_version).toBe('3');
      expectClose(response.outputs[1].contents.fp32_contents, models.expected.logreg_v1.probabilities.flat());
      expect((await call<{ versions: string[] }>(client, 'ModelMetadata', { name: 'churn' })).versions).toEqual(['1', '2', '3']);

      await observer.publish(
        createEvent('deployment.requested', {
          source: 'registry',
          subject: 'churn',
          data: { model: 'churn', version: 4, artifactUri: '/no/such/model.onnx', strategy: 'canary' },
        }),
      );
      const failed = await waitFor(() => completed.find((e) => e.data.version === 4), 'the failed deployment.completed');
      expect(failed.data).toMatchObject({ status: 'failed', trafficShare: 0, error: expect.stringContaining('/no/such/model.onnx') });
      expect((await call<InferResponse>(client, 'ModelInfer', request)).model_version).toBe('3');
    } finally {
      await watch.stop();
    }
  });
});

describe('serving: canary traffic split (deployment.requested canary, model.promoted, model.rolled_back)', () => {
  let models: TestModels;
  let transport: InProcessTransport;
  let serving: ServingApp;
  let client: InferenceClient;
  let observer: EventBus;
  let watch: Subscription;
  const completed: EventEnvelope<'deployment.completed'>[] = [];
  const SHARE = 0.2;

  const infer = (extra: Record<string, unknown>) =>
    call<InferResponse>(client, 'ModelInfer', { model_name: 'churn', inputs: [typedInput([models.expected.logreg_v1.rows[0]])], ...extra });
  const withKey = (key: string) => ({ parameters: { request_key: { string_param: key } } });
  /** Answers for many requests, a bounded number in flight. */
  async function inferAll(requests: Record<string, unknown>[], inFlight = 100): Promise<InferResponse[]> {
    const out: InferResponse[] = [];
    for (let i = 0; i < requests.length; i += inFlight) out.push(...(await Promise.all(requests.slice(i, i + inFlight).map(infer))));
    return out;
  }
  const deploy = async (version: number, artifact: string, strategy: 'canary' | 'full', canaryShare = SHARE) => {
    await observer.publish(
      createEvent('deployment.requested', {
        source: 'registry',
        subject: 'churn',
        data: { model: 'churn', version, artifactUri: `file://${artifact}`, strategy, canaryShare },
      }),
    );
    return waitFor(() => completed.find((e) => e.data.version === version), `deployment.completed for version ${version}`);
  };
  const keys = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

  beforeAll(async () => {
    models = makeTestModels(interopPython());
    transport = new InProcessTransport();
    serving = await startServing(
      loadServingConfig({ SERVING_GRPC_PORT: '0', SERVING_MODELS: `churn=${models.logregV1}`, SERVING_BATCH_DELAY_US: '500' }),
      { inProcess: transport, logger: false },
    );
    client = inferenceClient(serving.address);
    observer = new EventBus(transport);
    watch = await collect(observer, 'canary-observer', 'deployment.completed', completed);
  }, 60_000);
  afterAll(async () => {
    client?.close();
    await watch?.stop();
    await serving?.close();
  });

  it('hashes request keys stably and evenly to [0, 1)', () => {
    expect(keyFraction('user-42')).toBe(keyFraction('user-42'));
    const values = keys('k', 10_000).map(keyFraction);
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    for (const cut of [0.1, 0.2, 0.5, 0.9]) expect(Math.abs(values.filter((v) => v < cut).length / values.length - cut)).toBeLessThan(0.015);
  });

  it('a first version deployed as canary takes all traffic (nothing to split with)', async () => {
    // v1 came from SERVING_MODELS; a canary of a fresh model has no stable to sit beside.
    expect(serving.repository.route('churn')).toEqual({ stable: 1 });
    const answers = await inferAll(keys('first', 50).map(withKey));
    expect(new Set(answers.map((a) => a.model_version))).toEqual(new Set(['1']));
    expect(answers.every((a) => a.parameters.route.string_param === 'stable')).toBe(true);
  });

  it('routes canaryShare of unversioned requests to the challenger: 2,000 keys within ±0.03 of 0.2', async () => {
    const done = await deploy(2, models.logregV2, 'canary');
    expect(done.data).toMatchObject({ model: 'churn', status: 'serving', trafficShare: SHARE });
    expect(serving.repository.route('churn')).toEqual({ stable: 1, canary: { version: 2, share: SHARE } });
    const answers = await inferAll(keys('user', 2_000).map(withKey));
    const canary = answers.filter((a) => a.model_version === '2');
    expect(Math.abs(canary.length / answers.length - SHARE)).toBeLessThanOrEqual(0.03);
    for (const a of answers) {
      expect(['1', '2']).toContain(a.model_version);
      expect(a.parameters.model_version.string_param).toBe(a.model_version);
      expect(a.parameters.route.string_param).toBe(a.model_version === '2' ? 'canary' : 'stable');
    }
  });

  it('is sticky: the same key (request_key, else the request id) always gets the same version', async () => {
    for (const key of keys('sticky', 40)) {
      const byParam = await inferAll(Array.from({ length: 5 }, () => withKey(key)));
      expect(new Set(byParam.map((a) => a.model_version)).size, key).toBe(1);
      const byId = await inferAll(Array.from({ length: 5 }, () => ({ id: key })));
      expect(new Set(byId.map((a) => a.model_version)).size, key).toBe(1);
      // the same key means the same side whichever field carries it
      expect(byId[0].model_version).toBe(byParam[0].model_version);
    }
    // request_key wins over the id
    const key = keys('sticky', 400).find((k) => keyFraction(k) < SHARE)!;
    const other = keys('other', 400).find((k) => keyFraction(k) >= SHARE)!;
    expect((await infer({ id: other, ...withKey(key) })).model_version).toBe('2');
    expect((await infer({ id: other })).model_version).toBe('1');
  });

  it('honours an explicit version on either side of the split', async () => {
    const canaryKey = keys('x', 400).find((k) => keyFraction(k) < SHARE)!;
    const v1 = await infer({ model_version: '1', ...withKey(canaryKey) });
    expect(v1).toMatchObject({ model_version: '1' });
    expect(v1.parameters.route.string_param).toBe('stable');
    const { rows, probabilities } = models.expected.logreg_v2;
    const v2 = await call<InferResponse>(client, 'ModelInfer', { model_name: 'churn', model_version: '2', id: 'pinned', inputs: [typedInput([rows[0]])] });
    expect(v2.model_version).toBe('2');
    expect(v2.parameters.route.string_param).toBe('canary');
    expectClose(v2.outputs[1].contents.fp32_contents, probabilities[0]);
  });

  it('model.rolled_back naming the challenger drops it: stable keeps 100%', async () => {
    await observer.publish(
      createEvent('model.rolled_back', { source: 'registry', subject: 'churn', data: { model: 'churn', version: 2, restoredVersion: 1, reason: 'canary errors' } }),
    );
    await waitFor(() => (serving.repository.route('churn')?.canary ? undefined : true), 'the canary dropped');
    expect(serving.repository.route('churn')).toEqual({ stable: 1 });
    const answers = await inferAll(keys('user', 1_000).map(withKey));
    expect(answers.every((a) => a.model_version === '1' && a.parameters.route.string_param === 'stable')).toBe(true);
    expect(serving.repository.versions('churn')).toEqual([1]);
    expect((await callError(client, 'ModelInfer', { model_name: 'churn', model_version: '2', inputs: [typedInput([models.expected.logreg_v1.rows[0]])] })).code).toBe(
      status.NOT_FOUND,
    );
  });

  it('model.promoted for the challenger moves 100% to it and drains the old version, with zero failed requests under load', async () => {
    const done = await deploy(3, models.logregV2, 'canary');
    expect(done.data).toMatchObject({ status: 'serving', trafficShare: SHARE });
    let running = true;
    let seq = 0;
    let promoted = false;
    const answered: string[] = [];
    /** Versions that answered requests sent once the promotion had been applied. */
    const afterPromotion: string[] = [];
    const failures: unknown[] = [];
    const workers = Array.from({ length: 8 }, async () => {
      while (running) {
        try {
          const sentAfter = promoted;
          const version = (await infer(withKey(`load-${seq++}`))).model_version;
          answered.push(version);
          if (sentAfter) afterPromotion.push(version);
        } catch (error) {
          failures.push(error);
        }
      }
    });
    await waitFor(() => (answered.includes('3') && answered.includes('1') ? true : undefined), 'traffic on both versions');
    await observer.publish(
      createEvent('model.promoted', { source: 'registry', subject: 'churn', data: { model: 'churn', version: 3, alias: 'champion', previousVersion: 1 } }),
    );
    await waitFor(() => (serving.repository.route('churn')?.stable === 3 ? true : undefined), 'the promotion applied');
    promoted = true;
    await waitFor(() => (afterPromotion.length > 200 ? true : undefined), 'traffic after the promotion');
    running = false;
    await Promise.all(workers);
    expect(failures).toEqual([]);
    // requests in flight on v1 when the route switched finished on v1 (drained), none failed
    expect(afterPromotion.every((v) => v === '3')).toBe(true);
    expect(serving.repository.route('churn')).toEqual({ stable: 3 });
    expect(serving.repository.versions('churn')).toEqual([3]);
    const answers = await inferAll(keys('user', 1_000).map(withKey));
    expect(answers.every((a) => a.model_version === '3' && a.parameters.route.string_param === 'stable')).toBe(true);
    expect((await call<{ versions: string[] }>(client, 'ModelMetadata', { name: 'churn' })).versions).toEqual(['3']);
  });

  it('a full deployment switches all traffic at once, and replaces a pending canary', async () => {
    await deploy(4, models.logregV1, 'canary', 0.5);
    expect(serving.repository.route('churn')).toEqual({ stable: 3, canary: { version: 4, share: 0.5 } });
    const done = await deploy(5, models.logregV1, 'full');
    expect(done.data).toMatchObject({ status: 'serving', trafficShare: 1 });
    const answers = await inferAll(keys('user', 300).map(withKey));
    expect(serving.repository.route('churn')).toEqual({ stable: 5 });
    expect(answers.every((a) => a.model_version === '5' && a.parameters.route.string_param === 'stable')).toBe(true);
  });
});

describe('serving: graceful shutdown', () => {
  it('lets an in-flight request finish while closing, then stops accepting', async () => {
    const models = makeTestModels(interopPython());
    const serving = await startServing(
      // A long batch delay keeps the request in flight while close() starts.
      loadServingConfig({ SERVING_GRPC_PORT: '0', SERVING_MODELS: `churn=${models.logregV1}`, SERVING_BATCH_DELAY_US: '300000' }),
      { logger: false },
    );
    const client = inferenceClient(serving.address);
    try {
      const inFlight = call<InferResponse>(client, 'ModelInfer', { model_name: 'churn', inputs: [typedInput(models.expected.logreg_v1.rows)] });
      await new Promise((r) => setTimeout(r, 100));
      const closed = serving.close();
      const response = await inFlight;
      expectClose(response.outputs[1].contents.fp32_contents, models.expected.logreg_v1.probabilities.flat());
      await closed;
      const after = await callError(inferenceClient(serving.address, { 'grpc.initial_reconnect_backoff_ms': 50 }), 'ServerLive', {}).catch((e) => e);
      expect(after.code).toBe(status.UNAVAILABLE);
    } finally {
      client.close();
      await serving.close();
    }
  }, 30_000);
});
