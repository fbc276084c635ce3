import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startGroupsAtEnd, type KafkaKitOptions } from '@mlops/bus';
import { inferenceClient, makeTestModels, type InferenceClient } from '../../services/serving/test/models';
import { infraEnv } from '../infra/infra-env';
import { interopPython } from '../support/python';
import { OtlpReceiver, SPAN_KIND } from '../support/otlp-receiver';
import { freePort, ServiceProcess } from '../support/service-process';

/**
 * Traces across processes, exported over OTLP/HTTP to a receiver in the test exactly as
 * services export to a collector: each service its own process, real Kafka between them.
 */
describe('OpenTelemetry traces across services (OTLP, real Kafka, one process per service)', () => {
  const infra = infraEnv();
  const kafka: KafkaKitOptions = { clientId: 'traces-it', brokers: infra.KAFKA_BROKERS.split(','), logLevel: 'nothing' };
  const run = `tr${Date.now()}`;
  const source = `orders_${run}`;
  const otlp = new OtlpReceiver();
  const services: ServiceProcess[] = [];
  let dir: string;
  let ingestionUrl: string;

  const tracing = (service: string) => ({
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
    OTEL_SERVICE_NAME: service,
    // Export within a fraction of a second instead of the 5 s default batch delay.
    OTEL_BSP_SCHEDULE_DELAY: '100',
  });

  beforeAll(async () => {
    await otlp.start();
    dir = mkdtempSync(join(tmpdir(), 'traces-it-'));
    writeFileSync(
      join(dir, 'views.yaml'),
      `featureViews:
  - name: ${source}
    source: ${source}
    entityKey: user
    timestampField: ts
    features: [{ name: last_amount, field: amount, type: number }]
`,
    );
    const [ingestionPort, fsHttp, fsGrpc] = [await freePort(), await freePort(), await freePort()];
    ingestionUrl = `http://127.0.0.1:${ingestionPort}`;
    const ingestion = new ServiceProcess('ingestion', {
      ...tracing('ingestion'),
      BUS: 'kafka',
      KAFKA_BROKERS: infra.KAFKA_BROKERS,
      DATABASE_URL: infra.DATABASE_URL,
      INGESTION_PORT: String(ingestionPort),
      INGESTION_GROUP: `ingestion-${run}`,
      INSTANCE_ID: `ingestion-${randomUUID()}`,
    });
    const featureStore = new ServiceProcess('feature-store', {
      ...tracing('feature-store'),
      BUS: 'kafka',
      KAFKA_BROKERS: infra.KAFKA_BROKERS,
      DATABASE_URL: infra.DATABASE_URL,
      ONLINE_STORE: 'redis',
      REDIS_URL: infra.REDIS_URL,
      REDIS_KEY_PREFIX: `traces-${run}`,
      FEATURE_VIEWS_FILE: join(dir, 'views.yaml'),
      FEATURE_STORE_ARTIFACT_ROOT: join(dir, 'datasets'),
      FEATURE_STORE_HTTP_PORT: String(fsHttp),
      FEATURE_STORE_GRPC_PORT: String(fsGrpc),
      FEATURE_STORE_GROUP: `feature-store-${run}`,
      INSTANCE_ID: `feature-store-${randomUUID()}`,
    });
    services.push(ingestion, featureStore);
    // The new feature store starts at the end of its topics, not at other tests' history.
    await startGroupsAtEnd(kafka, {
      [`feature-store-${run}`]: ['data.validated'],
      [`feature-store-${run}.retrain`]: ['retrain.requested'],
    });
    ingestion.start();
    featureStore.start();
    await ingestion.waitUntilReady(`${ingestionUrl}/health/ready`);
    await featureStore.waitUntilReady(`http://127.0.0.1:${fsHttp}/health/ready`);
    const contract = await fetch(`${ingestionUrl}/sources/${source}/contract`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fields: { user: { type: 'string' }, ts: { type: 'integer' }, amount: { type: 'number' } }, idField: 'user' }),
    });
    expect(contract.status).toBe(200);
  });

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await otlp.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('follows a record from the ingestion HTTP call through Kafka into the feature store, parent to child', async () => {
    // The caller's own trace context: the whole chain must continue it.
    const callerTrace = randomUUID().replaceAll('-', '');
    const callerSpan = randomUUID().replaceAll('-', '').slice(0, 16);
    const response = await fetch(`${ingestionUrl}/sources/${source}/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${callerTrace}-${callerSpan}-01` },
      body: JSON.stringify({ records: [{ user: 'u1', ts: Date.parse('2026-11-01T00:00:00Z'), amount: 42 }] }),
    });
    expect(await response.json()).toMatchObject({ accepted: 1 });

    const [server, publish, consume] = await otlp.waitForSpans(
      callerTrace,
      [
        { service: 'ingestion', name: 'POST /sources/:source/records' },
        { service: 'ingestion', name: 'publish data.validated' },
        { service: 'feature-store', name: 'process data.validated' },
      ],
      60_000,
    );
    expect(server).toMatchObject({ kind: SPAN_KIND.SERVER, parentSpanId: callerSpan });
    expect(publish).toMatchObject({ kind: SPAN_KIND.PRODUCER, parentSpanId: server.spanId });
    expect(consume).toMatchObject({ kind: SPAN_KIND.CONSUMER, parentSpanId: publish.spanId, attributes: { 'messaging.consumer.group.name': expect.stringContaining('feature-store') } });
  });

  it('follows a prediction from the gRPC call through prediction.logged into the monitor, parent to child', async () => {
    const models = makeTestModels(interopPython());
    const [grpcPort, monitoringPort] = [await freePort(), await freePort()];
    const monitoringGroup = `monitoring-${run}`;
    // The new monitor starts at the end of prediction.logged, not at other tests' history.
    await startGroupsAtEnd(kafka, {
      [monitoringGroup]: ['prediction.logged'],
      [`${monitoringGroup}.labels`]: ['label.observed'],
      [`${monitoringGroup}.lifecycle`]: ['dataset.materialized', 'training.completed', 'model.registered', 'deployment.completed', 'model.promoted', 'model.rolled_back'],
      [`serving-${run}`]: ['deployment.requested', 'model.promoted', 'model.rolled_back'],
    });
    const serving = new ServiceProcess('serving', {
      ...tracing('serving'),
      BUS: 'kafka',
      KAFKA_BROKERS: infra.KAFKA_BROKERS,
      SERVING_GRPC_PORT: String(grpcPort),
      SERVING_MODELS: `churn_${run}=${models.logregV1}`,
      SERVING_GROUP: `serving-${run}`,
      INSTANCE_ID: `serving-${randomUUID()}`,
    });
    const monitoring = new ServiceProcess('monitoring', {
      ...tracing('monitoring'),
      BUS: 'kafka',
      KAFKA_BROKERS: infra.KAFKA_BROKERS,
      DATABASE_URL: infra.DATABASE_URL,
      MONITORING_PORT: String(monitoringPort),
      MONITORING_GROUP: monitoringGroup,
      MONITORING_TABLE_PREFIX: `mon_${run}`,
      INSTANCE_ID: `monitoring-${randomUUID()}`,
    });
    services.push(serving, monitoring);
    serving.start();
    monitoring.start();
    await monitoring.waitUntilReady(`http://127.0.0.1:${monitoringPort}/health/ready`);
    const client: InferenceClient = inferenceClient(`127.0.0.1:${grpcPort}`);
    try {
      await new Promise<void>((done, fail) => client.waitForReady(Date.now() + 60_000, (e?: Error) => (e ? fail(e) : done())));
      const callerTrace = randomUUID().replaceAll('-', '');
      const callerSpan = randomUUID().replaceAll('-', '').slice(0, 16);
      const metadata = new grpc.Metadata();
      metadata.set('traceparent', `00-${callerTrace}-${callerSpan}-01`);
      const request = { model_name: `churn_${run}`, inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 30], contents: { fp32_contents: Array.from({ length: 30 }, (_, i) => i / 30) } }] };
      await new Promise((done, fail) => client.ModelInfer(request, metadata, (e: Error | null, r: unknown) => (e ? fail(e) : done(r))));

      const [infer, consume] = await otlp
        .waitForSpans(
          callerTrace,
          [
            { service: 'serving', name: 'inference.GRPCInferenceService/ModelInfer' },
            { service: 'monitoring', name: 'process prediction.logged' },
          ],
          90_000,
        )
        .catch((error) => {
          console.log(serving.output.join('').slice(-3000), monitoring.output.join('').slice(-3000));
          throw error;
        });
      expect(infer).toMatchObject({ kind: SPAN_KIND.SERVER, parentSpanId: callerSpan });
      expect(consume).toMatchObject({ kind: SPAN_KIND.CONSUMER, parentSpanId: infer.spanId });
    } finally {
      client.close();
      rmSync(models.dir, { recursive: true, force: true });
    }
  });
});
