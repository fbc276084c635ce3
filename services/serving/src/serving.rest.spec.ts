import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { EventBus, InProcessTransport, type Subscription } from '@mlops/bus';
import { decodeEvent, type EventEnvelope } from '@mlops/contracts';
import { interopPython } from '../../../test/support/python';
import { freePort } from '../../../test/support/service-process';
import { waitFor } from '../../../test/support/wait-for';
import { float32Raw, makeTestModels, type TestModels } from '../test/models';
import { prefixProxy } from '../test/prefix-proxy';
import { startServing, type ServingApp } from './serving.app';
import { loadServingConfig } from './serving.config';

const TOKEN = 'serving-rest-token-0123456789';

interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
  json: Record<string, unknown>;
}

/** The JSON header of a reply (all of it, or its first Inference-Header-Content-Length bytes). */
function jsonOf(body: Buffer, headers: Headers): Record<string, unknown> {
  const length = headers.get('inference-header-content-length');
  const text = (length === null ? body : body.subarray(0, Number(length))).toString('utf8');
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

function expectClose(actual: ArrayLike<number>, expected: number[], tolerance = 1e-5) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i] - expected[i])).toBeLessThanOrEqual(tolerance);
}

/** A JSON header then binary data, with Inference-Header-Content-Length. */
function binaryBody(header: unknown, ...blobs: Buffer[]): { body: Buffer; headers: Record<string, string> } {
  const json = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([json, ...blobs]), headers: { 'Inference-Header-Content-Length': String(json.length) } };
}

describe('serving: KServe v2 REST (real HTTP, in-process bus, real onnxruntime)', () => {
  let models: TestModels;
  let serving: ServingApp;
  let base: string;
  let observer: EventBus;
  let subscription: Subscription;
  const logged: EventEnvelope<'prediction.logged'>[] = [];

  const send = async (method: string, path: string, body?: Buffer | string | object, headers: Record<string, string> = {}): Promise<Reply> => {
    const payload = body === undefined || typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    const res = await fetch(`${base}${path}`, { method, body: payload, headers });
    const raw = Buffer.from(await res.arrayBuffer());
    return { status: res.status, headers: res.headers, body: raw, json: jsonOf(raw, res.headers) };
  };

  beforeAll(async () => {
    models = makeTestModels(interopPython());
    const transport = new InProcessTransport();
    serving = await startServing(
      loadServingConfig({
        SERVING_GRPC_PORT: String(await freePort()),
        SERVING_HTTP_PORT: '0',
        SERVING_MODELS: `churn=${models.logregV1},churn:2=${models.logregV2},house=${models.linreg}`,
        SERVING_MAX_MESSAGE_BYTES: String(64 * 1024),
      }),
      { inProcess: transport, logger: false },
    );
    base = `http://127.0.0.1:${serving.httpPort}`;
    observer = new EventBus(transport);
    subscription = await observer.subscribe({
      group: 'rest-observer',
      topics: ['prediction.logged'],
      handle: async (m) => void logged.push(decodeEvent(m.value) as EventEnvelope<'prediction.logged'>),
    });
  }, 60_000);
  afterAll(async () => {
    await subscription?.stop();
    await serving?.close();
  });

  it('GET /v2 names the server and its extensions; health live and ready', async () => {
    expect((await send('GET', '/v2')).json).toEqual({
      name: 'mlops-serving',
      version: '0.1.0',
      extensions: ['binary_tensor_data', 'model_repository', 'statistics', 'model_configuration'],
    });
    expect(await send('GET', '/v2/health/live')).toMatchObject({ status: 200, json: { live: true } });
    expect(await send('GET', '/v2/health/ready')).toMatchObject({ status: 200, json: { ready: true } });
    expect((await send('GET', '/health/live')).status).toBe(200);
  });

  it('describes models and versions; an unknown one is 404 with {"error"} naming it', async () => {
    expect((await send('GET', '/v2/models/churn')).json).toEqual({
      name: 'churn',
      versions: ['1', '2'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 30] }],
      outputs: [
        { name: 'label', datatype: 'INT64', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
      ],
    });
    // Beyond the v2 metadata (which names tensors, not their columns): the feature names of the model's ONNX metadata.
    expect((await send('GET', '/v2/models/house/versions/1')).json).toMatchObject({
      name: 'house',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }],
      parameters: { feature_names: ['rooms', 'area', 'age', 'distance'] },
    });
    expect(await send('GET', '/v2/models/nope')).toMatchObject({ status: 404, json: { error: expect.stringContaining("model 'nope' is not loaded") } });
    expect(await send('GET', '/v2/models/churn/versions/7')).toMatchObject({ status: 404, json: { error: expect.stringContaining("no version '7'") } });
    expect(await send('GET', '/v2/models/churn/ready')).toMatchObject({ status: 200, json: { name: 'churn', ready: true } });
    expect(await send('GET', '/v2/models/churn/versions/2/ready')).toMatchObject({ status: 200, json: { ready: true } });
    expect((await send('GET', '/v2/models/churn/versions/9/ready')).status).toBe(404);
  });

  it('reports the model configuration as Triton does', async () => {
    expect((await send('GET', '/v2/models/churn/versions/1/config')).json).toEqual({
      name: 'churn',
      platform: 'onnxruntime_onnx',
      backend: 'onnxruntime',
      max_batch_size: 64,
      input: [{ name: 'input', data_type: 'TYPE_FP32', dims: [30] }],
      output: [
        { name: 'label', data_type: 'TYPE_INT64', dims: [] },
        { name: 'probabilities', data_type: 'TYPE_FP32', dims: [2] },
      ],
      dynamic_batching: { preferred_batch_size: [], max_queue_delay_microseconds: 500 },
    });
  });

  it('infers with JSON tensors (nested data too) and logs the prediction like gRPC', async () => {
    const { rows, probabilities, label } = models.expected.logreg_v1;
    const reply = await send('POST', '/v2/models/churn/versions/1/infer', {
      id: 'rest-json-1',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, 30], data: rows }],
    });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/application\/json/);
    expect(reply.json).toMatchObject({ model_name: 'churn', model_version: '1', id: 'rest-json-1', parameters: { route: 'stable' } });
    const outputs = reply.json.outputs as { name: string; datatype: string; shape: number[]; data: number[] }[];
    expect(outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([
      ['label', 'INT64', [rows.length]],
      ['probabilities', 'FP32', [rows.length, 2]],
    ]);
    expect(outputs[0].data).toEqual(label);
    expectClose(outputs[1].data, probabilities.flat());
    // One v2 event for the request: its tensors, with a prediction id per row.
    const ids = (e: (typeof logged)[number]) => ('predictionIds' in e.data ? e.data.predictionIds : [e.data.predictionId]);
    const event = await waitFor(() => logged.find((e) => ids(e).includes('rest-json-1:0')), 'prediction.logged of rest-json-1', 10_000);
    expect(ids(event)).toEqual(rows.map((_, i) => `rest-json-1:${i}`));
    expect(event.data).toMatchObject({ model: 'churn', version: 1, requestKey: 'rest-json-1' });
    // The response names the same ids, for labels (POST /monitoring/labels).
    expect((reply.json.parameters as { prediction_ids: string[] }).prediction_ids).toEqual(ids(event));
  });

  it('a request without an id gets a generated one: the response returns the prediction ids it logged', async () => {
    const { rows } = models.expected.logreg_v1;
    const reply = await send('POST', '/v2/models/churn/versions/1/infer', { inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, 30], data: rows }] });
    const returned = (reply.json.parameters as { prediction_ids: string[] }).prediction_ids;
    const [requestId] = returned[0].split(':');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(returned).toEqual(rows.map((_, i) => `${requestId}:${i}`));
    const event = await waitFor(() => logged.find((e) => 'predictionIds' in e.data && e.data.predictionIds.includes(returned[0])), 'prediction.logged of the id-less request', 10_000);
    expect('predictionIds' in event.data && event.data.predictionIds).toEqual(returned);
  });

  it('takes binary tensor data and answers binary outputs (binary_data_output), with Inference-Header-Content-Length', async () => {
    const { rows, probabilities, label } = models.expected.logreg_v2;
    const raw = float32Raw(rows);
    const { body, headers } = binaryBody(
      { inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, 30], parameters: { binary_data_size: raw.length } }], parameters: { binary_data_output: true } },
      raw,
    );
    const reply = await send('POST', '/v2/models/churn/versions/2/infer', body, headers);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/octet-stream');
    const headerLength = Number(reply.headers.get('inference-header-content-length'));
    const outputs = reply.json.outputs as { name: string; parameters: { binary_data_size: number } }[];
    expect(outputs.map((o) => [o.name, o.parameters.binary_data_size])).toEqual([
      ['label', rows.length * 8],
      ['probabilities', rows.length * 2 * 4],
    ]);
    const blob = reply.body.subarray(headerLength);
    expect(blob.length).toBe(rows.length * 8 + rows.length * 8);
    const labels = new BigInt64Array(blob.buffer.slice(blob.byteOffset, blob.byteOffset + rows.length * 8));
    expect(Array.from(labels, Number)).toEqual(label);
    expectClose(new Float32Array(blob.buffer.slice(blob.byteOffset + rows.length * 8, blob.byteOffset + blob.length)), probabilities.flat());
  });

  it('mixes per output: binary_data on one requested output, JSON for the other; gzip request bodies', async () => {
    const { rows, probabilities } = models.expected.logreg_v1;
    const json = JSON.stringify({
      inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, 30], data: rows.flat() }],
      outputs: [{ name: 'probabilities', parameters: { binary_data: true } }, { name: 'label' }],
    });
    const reply = await send('POST', '/v2/models/churn/versions/1/infer', gzipSync(json), { 'Content-Encoding': 'gzip' });
    expect(reply.status).toBe(200);
    const outputs = reply.json.outputs as { name: string; data?: number[]; parameters?: { binary_data_size: number } }[];
    expect(outputs.map((o) => o.name)).toEqual(['probabilities', 'label']);
    expect(outputs[0].parameters?.binary_data_size).toBe(rows.length * 8);
    expect(outputs[1].data).toHaveLength(rows.length);
    const blob = reply.body.subarray(Number(reply.headers.get('inference-header-content-length')));
    expectClose(new Float32Array(blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.length)), probabilities.flat());
  });

  describe('bad requests: 400 with {"error"} naming the tensor or field, nothing inferred', () => {
    const row = Array.from({ length: 30 }, (_, i) => i / 30);
    const cases: [string, () => { body: Buffer | string | object; headers?: Record<string, string> }, RegExp][] = [
      ['data count does not fit the shape', () => ({ body: { inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 30], data: row }] } }), /input tensor 'input': data has 30 values, expected 60 for shape \[2,30\]/],
      ['a value of the wrong type', () => ({ body: { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 30], data: [...row.slice(0, 29), 'x'] }] } }), /input tensor 'input': data\[29\] is "x", expected a number for FP32/],
      ['an unknown input', () => ({ body: { inputs: [{ name: 'feature', datatype: 'FP32', shape: [1, 30], data: row }] } }), /unexpected input tensor 'feature'.*'input'/],
      ['a datatype the model does not take', () => ({ body: { inputs: [{ name: 'input', datatype: 'FP64', shape: [1, 30], data: row }] } }), /input tensor 'input': datatype 'FP64' does not match.*expects FP32/],
      ['no data', () => ({ body: { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 30] }] } }), /input tensor 'input': no data/],
      ['no inputs', () => ({ body: { inputs: [] } }), /inputs must be a non-empty array/],
      ['not JSON', () => ({ body: '{"inputs": [' }), /request body is not JSON/],
      [
        'binary_data_size past the end of the body',
        () => binaryBody({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 30], parameters: { binary_data_size: 120 } }] }, Buffer.alloc(100)),
        /input tensor 'input': binary_data_size 120 runs past the body \(100 bytes of binary data left\)/,
      ],
      [
        'binary data of the wrong size for the shape',
        () => binaryBody({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 30], parameters: { binary_data_size: 116 } }] }, Buffer.alloc(116)),
        /input tensor 'input': binary data has 116 bytes, expected 120/,
      ],
      [
        'binary bytes no input claims',
        () => binaryBody({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 30], parameters: { binary_data_size: 120 } }] }, Buffer.alloc(124)),
        /124 bytes of binary data after the JSON header, but the inputs' binary_data_size add up to 120/,
      ],
      [
        'both data and binary_data_size',
        () => binaryBody({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 30], data: row, parameters: { binary_data_size: 120 } }] }, Buffer.alloc(120)),
        /input tensor 'input': has both data and parameters.binary_data_size/,
      ],
      ['a header length longer than the body', () => ({ body: '{"inputs": []}', headers: { 'Inference-Header-Content-Length': '999' } }), /Inference-Header-Content-Length must be the byte length of the JSON header/],
      ['an output the model does not have', () => ({ body: { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 30], data: row }], outputs: [{ name: 'score' }] } }), /requested output tensor 'score' does not exist/],
    ];
    it.each(cases)('%s', async (_, make, message) => {
      const before = serving.predictions.stats.published + serving.predictions.stats.pending;
      const { body, headers } = make();
      const reply = await send('POST', '/v2/models/churn/versions/1/infer', body, headers);
      expect(reply.status).toBe(400);
      expect(reply.headers.get('content-type')).toBe('application/json');
      expect(reply.json.error).toMatch(message);
      expect(serving.predictions.stats.published + serving.predictions.stats.pending).toBe(before);
    });

    it('an unknown model is 404; a body over SERVING_MAX_MESSAGE_BYTES is 413', async () => {
      expect(await send('POST', '/v2/models/nope/infer', { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 30], data: row }] })).toMatchObject({
        status: 404,
        json: { error: expect.stringContaining("model 'nope' is not loaded") },
      });
      const huge = await send('POST', '/v2/models/churn/infer', Buffer.alloc(65 * 1024, 32));
      expect(huge).toMatchObject({ status: 413, json: { error: expect.stringContaining('over 65536 bytes') } });
    });
  });

  it('counts successes, failures and their times per version (statistics extension)', async () => {
    const stats = (await send('GET', '/v2/models/churn/versions/1/stats')).json as { model_stats: Record<string, any>[] }; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(stats.model_stats).toHaveLength(1);
    const [version1] = stats.model_stats;
    expect(version1).toMatchObject({ name: 'churn', version: '1' });
    // 2 successful requests of 5 rows each so far (JSON, mixed) and the failed ones above that reached the model.
    expect(version1.inference_stats.success.count).toBeGreaterThanOrEqual(2);
    expect(version1.inference_count).toBe(version1.inference_stats.success.count * models.expected.logreg_v1.rows.length);
    expect(version1.inference_stats.fail.count).toBeGreaterThanOrEqual(1);
    for (const part of ['queue', 'compute_input', 'compute_infer', 'compute_output']) {
      expect(version1.inference_stats[part].count).toBe(version1.inference_stats.success.count);
    }
    expect(version1.inference_stats.compute_infer.ns).toBeGreaterThan(0);
    expect(version1.last_inference).toBeGreaterThan(Date.now() - 60_000);
    const all = (await send('GET', '/v2/models/stats')).json as { model_stats: { name: string; version: string }[] };
    expect(all.model_stats.map((s) => `${s.name}/${s.version}`)).toEqual(['churn/1', 'churn/2', 'house/1']);
    expect(await send('GET', '/v2/models/nope/stats')).toMatchObject({ status: 404 });
  });

  it('works mounted under a prefix (a proxy strips /serving, as the front door does)', async () => {
    const proxy = await prefixProxy(serving.httpPort!, '/serving');
    try {
      const at = `http://127.0.0.1:${proxy.port}/serving`;
      const { rows, label } = models.expected.logreg_v1;
      const res = await fetch(`${at}/v2/models/churn/versions/1/infer`, {
        method: 'POST',
        body: JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, 30], data: rows }], outputs: [{ name: 'label' }] }),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { outputs: { data: number[] }[] }).outputs[0].data).toEqual(label);
      expect((await fetch(`${at}/v2/health/ready`)).status).toBe(200);
    } finally {
      await proxy.close();
    }
  });
});

describe('serving: v2 REST with API_TOKEN', () => {
  let serving: ServingApp;
  let base: string;

  beforeAll(async () => {
    const models = makeTestModels(interopPython());
    serving = await startServing(
      loadServingConfig({ SERVING_GRPC_PORT: String(await freePort()), SERVING_HTTP_PORT: '0', SERVING_MODELS: `churn=${models.logregV1}`, API_TOKEN: TOKEN }),
      { inProcess: new InProcessTransport(), logger: false },
    );
    base = `http://127.0.0.1:${serving.httpPort}`;
  }, 60_000);
  afterAll(async () => {
    await serving?.close();
  });

  const infer = (headers: Record<string, string>) =>
    fetch(`${base}/v2/models/churn/infer`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 30], data: Array(30).fill(0.5) }] }),
    });

  it('refuses requests without the bearer token with 401 {"error"}, answers them with it', async () => {
    const refused = await infer({});
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ error: 'missing Authorization header (expected "Bearer <token>")' });
    expect((await infer({ Authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await fetch(`${base}/v2/models/churn`)).status).toBe(401);
    expect((await fetch(`${base}/v2/repository/index`, { method: 'POST' })).status).toBe(401);
    const answered = await infer({ Authorization: `Bearer ${TOKEN}` });
    expect(answered.status).toBe(200);
  });

  it('leaves the probes and the scrape open', async () => {
    expect((await fetch(`${base}/v2/health/live`)).status).toBe(200);
    expect((await fetch(`${base}/v2/health/ready`)).status).toBe(200);
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/mlops_http_requests_total\{[^}]*route="\/v2\/models\/:model\/infer"[^}]*status="200"[^}]*\} 1/);
  });
});

describe('serving: v2 REST mounted by a front door (mountedAt)', () => {
  let serving: ServingApp;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const models = makeTestModels(interopPython());
    // SERVING_HTTP_PORT is set but not listened on: the front door serves the listener.
    serving = await startServing(
      loadServingConfig({ SERVING_GRPC_PORT: String(await freePort()), SERVING_HTTP_PORT: String(await freePort()), SERVING_MODELS: `house=${models.linreg}` }),
      { inProcess: new InProcessTransport(), logger: false, mountedAt: 'http://127.0.0.1:8080/serving' },
    );
    server = createServer(serving.http!);
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 60_000);
  afterAll(async () => {
    await new Promise((done) => server?.close(done));
    await serving?.close();
  });

  it('has no port of its own and answers v2 REST, /metrics and /health through the listener it returns', async () => {
    expect(serving.httpPort).toBeUndefined();
    const res = await fetch(`${base}/v2/models/house/infer`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ model_name: 'house', outputs: [{ name: 'variable', shape: [1, 1] }] });
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/mlops_http_requests_total\{[^}]*route="\/v2\/models\/:model\/infer"/);
  });
});
