import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { KafkaAdminKit, observeKafka, type KafkaKitOptions, type Subscription } from '@mlops/bus';
import { infraEnv } from '../../../test/infra/infra-env';
import { interopPython } from '../../../test/support/python';
import { OtlpReceiver, SPAN_KIND } from '../../../test/support/otlp-receiver';
import { freePort, ServiceProcess } from '../../../test/support/service-process';
import { waitFor } from '../../../test/support/wait-for';
import { call, inferenceClient, makeTestModels, type InferenceClient, type TestModels } from '../test/models';

/**
 * The production entry point on real Kafka with SERVING_HTTP_PORT: v2 REST inference logs its
 * predictions to Kafka like gRPC does, and a model repository load goes through Kafka
 * (deployment.requested published by serving, consumed by serving) before it is answered.
 */
describe('serving: v2 REST and the repository extension on real Kafka (own process)', () => {
  const infra = infraEnv();
  const kafka: KafkaKitOptions = { clientId: 'serving-oip-it', brokers: infra.KAFKA_BROKERS.split(','), logLevel: 'warn' };
  let models: TestModels;
  let serving: ServiceProcess;
  let base: string;
  let client: InferenceClient;
  let consumer: Subscription;
  const seen: { type: string; source: string; data: Record<string, unknown> }[] = [];
  /** traceparent header of each prediction.logged on Kafka, by requestKey. */
  const traceparents = new Map<string, string>();
  const otlp = new OtlpReceiver();
  const callerTrace = () => randomUUID().replaceAll('-', '');
  const callerSpan = () => randomUUID().replaceAll('-', '').slice(0, 16);

  beforeAll(async () => {
    models = makeTestModels(interopPython());
    const admin = new KafkaAdminKit(kafka);
    await admin.createTopics(['prediction.logged', 'deployment.requested', 'deployment.completed']).finally(() => admin.close());
    consumer = await observeKafka(kafka, { group: `serving-oip-observer-${randomUUID()}`, topics: ['prediction.logged', 'deployment.requested', 'deployment.completed'] }, ({ value, headers }) => {
      const event = JSON.parse(value.toString());
      seen.push(event);
      const traceparent = headers?.traceparent;
      if (event.type === 'prediction.logged' && event.data.requestKey && traceparent) traceparents.set(event.data.requestKey, String(traceparent));
    });
    await otlp.start();
    const [grpcPort, httpPort] = await Promise.all([freePort(), freePort()]);
    base = `http://127.0.0.1:${httpPort}`;
    serving = new ServiceProcess('serving', {
      BUS: 'kafka',
      KAFKA_BROKERS: infra.KAFKA_BROKERS,
      SERVING_GRPC_PORT: String(grpcPort),
      SERVING_HTTP_PORT: String(httpPort),
      SERVING_MODELS: `churn=${models.logregV1}`,
      SERVING_GROUP: `serving-oip-it-${randomUUID()}`,
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_SERVICE_NAME: 'serving',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    serving.start();
    client = inferenceClient(`127.0.0.1:${grpcPort}`);
    await waitFor(
      async () => {
        if (serving.output.join('').includes('failed to start')) throw new Error(serving.output.join(''));
        return (await fetch(`${base}/v2/health/ready`)).status === 200;
      },
      'serving to be ready on its HTTP port',
      60_000,
    );
    // The group joins after the server is ready; give the consumer a moment to get partitions.
    await new Promise((r) => setTimeout(r, 1_000));
  });
  afterAll(async () => {
    client?.close();
    await serving?.stop();
    await consumer?.stop();
    await otlp.stop();
  });

  it('answers v2 REST inference and logs the request rows to Kafka (one v2 event, an id per row), keyed by the request id, in the trace of the caller', async () => {
    const { rows, label } = models.expected.logreg_v1;
    const [trace, parent] = [callerTrace(), callerSpan()];
    const res = await fetch(`${base}/v2/models/churn/infer`, {
      method: 'POST',
      headers: { traceparent: `00-${trace}-${parent}-01` },
      body: JSON.stringify({ id: 'oip-rest-1', inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, 30], data: rows }], outputs: [{ name: 'label' }] }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { outputs: { data: number[] }[] }).outputs[0].data).toEqual(label);
    // prediction.logged v2: one event with the request's tensors and a prediction id per row.
    const event = await waitFor(
      () => seen.find((e) => e.type === 'prediction.logged' && e.data.requestKey === 'oip-rest-1'),
      'the prediction.logged event of the REST request on Kafka',
    );
    expect(event.type === 'prediction.logged' && 'predictionIds' in event.data && event.data.predictionIds).toEqual(rows.map((_, i) => `oip-rest-1:${i}`));
    const [server] = await otlp.waitForSpans(trace, [{ service: 'serving', name: 'POST /v2/models/:model/infer' }], 30_000);
    expect(server).toMatchObject({ kind: SPAN_KIND.SERVER, parentSpanId: parent });
    expect(traceparents.get('oip-rest-1')).toBe(`00-${trace}-${server.spanId}-01`);
  });

  it('ModelStreamInfer: a SERVER span per request in the trace of the stream, carried into prediction.logged', async () => {
    const [trace, parent] = [callerTrace(), callerSpan()];
    const metadata = new grpc.Metadata();
    metadata.set('traceparent', `00-${trace}-${parent}-01`);
    const stream = client.ModelStreamInfer(metadata) as grpc.ClientDuplexStream<unknown, { error_message: string }>;
    const answers: { error_message: string }[] = [];
    stream.on('data', (answer: { error_message: string }) => answers.push(answer));
    const ended = new Promise((done, fail) => stream.on('end', done).on('error', fail));
    for (const id of ['oip-stream-1', 'oip-stream-2']) {
      stream.write({ model_name: 'churn', id, inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 30], contents: { fp32_contents: models.expected.logreg_v1.rows[0] } }] });
    }
    stream.end();
    await ended;
    expect(answers.map((a) => a.error_message)).toEqual(['', '']);
    const streamSpans = () => otlp.trace(trace).filter((s) => s.service === 'serving' && s.name === 'inference.GRPCInferenceService/ModelStreamInfer');
    await waitFor(() => streamSpans().length === 2, 'two ModelStreamInfer SERVER spans in the trace', 30_000);
    expect(streamSpans().map((s) => [s.kind, s.parentSpanId])).toEqual([
      [SPAN_KIND.SERVER, parent],
      [SPAN_KIND.SERVER, parent],
    ]);
    await waitFor(() => traceparents.has('oip-stream-1') && traceparents.has('oip-stream-2'), 'prediction.logged of both stream requests');
    const spanIds = new Set(streamSpans().map((s) => s.spanId));
    for (const id of ['oip-stream-1', 'oip-stream-2']) {
      const [, traceId, spanId] = traceparents.get(id)!.split('-');
      expect(traceId).toBe(trace);
      expect(spanIds.has(spanId)).toBe(true);
    }
  });

  it('RepositoryModelLoad publishes deployment.requested on Kafka and answers once serving has loaded it', async () => {
    await call(client, 'RepositoryModelLoad', {
      model_name: 'churn',
      parameters: { version: { int64_param: 3 }, artifact_uri: { string_param: models.logregV2 } },
    });
    expect(await call(client, 'ModelReady', { name: 'churn', version: '3' })).toEqual({ ready: true });
    await waitFor(() => seen.find((e) => e.type === 'deployment.requested' && e.data.version === 3), 'deployment.requested of version 3 on Kafka');
    expect(seen.find((e) => e.type === 'deployment.requested' && e.data.version === 3)).toMatchObject({ source: 'serving', data: { model: 'churn', strategy: 'full' } });
    await waitFor(() => seen.find((e) => e.type === 'deployment.completed' && e.data.version === 3 && e.data.status === 'serving'), 'deployment.completed of version 3');
  });

  it('REST unload drains the model and load brings its newest version back', async () => {
    expect((await fetch(`${base}/v2/repository/models/churn/unload`, { method: 'POST' })).status).toBe(200);
    expect((await fetch(`${base}/v2/models/churn/ready`)).status).toBe(404);
    const index = (await (await fetch(`${base}/v2/repository/index`, { method: 'POST' })).json()) as { version: string; state: string }[];
    expect(index.map((m) => `${m.version}/${m.state}`)).toEqual(['1/UNAVAILABLE', '3/UNAVAILABLE']);
    expect((await fetch(`${base}/v2/repository/models/churn/load`, { method: 'POST' })).status).toBe(200);
    const metadata = (await (await fetch(`${base}/v2/models/churn`)).json()) as { versions: string[] };
    expect(metadata.versions).toEqual(['3']);
  });
});
