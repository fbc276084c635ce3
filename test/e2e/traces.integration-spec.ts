import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { infraEnv } from '../infra/infra-env';
import { OtlpReceiver, SPAN_KIND, type ReceivedSpan } from '../support/otlp-receiver';
import { freePort, ServiceProcess } from '../support/service-process';
import { waitFor } from '../support/wait-for';

/**
 * Traces across processes, exported over OTLP/HTTP to a receiver in the test exactly as
 * services export to a collector: each service its own process, real Kafka between them.
 */
describe('OpenTelemetry traces across services (OTLP, real Kafka, one process per service)', () => {
  const infra = infraEnv();
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

    const byName = (spans: ReceivedSpan[], service: string, name: string) => spans.find((s) => s.service === service && s.name === name);
    const spans = await waitFor(() => {
      const trace = otlp.trace(callerTrace);
      return byName(trace, 'feature-store', 'process data.validated') ? trace : undefined;
    }, 'the feature store consumer span in the caller trace', 60_000);

    const server = byName(spans, 'ingestion', `POST /sources/:source/records`);
    const publish = byName(spans, 'ingestion', 'publish data.validated');
    const consume = byName(spans, 'feature-store', 'process data.validated');
    expect(server).toMatchObject({ kind: SPAN_KIND.SERVER, parentSpanId: callerSpan });
    expect(publish).toMatchObject({ kind: SPAN_KIND.PRODUCER, parentSpanId: server!.spanId });
    expect(consume).toMatchObject({ kind: SPAN_KIND.CONSUMER, parentSpanId: publish!.spanId, attributes: { 'messaging.consumer.group.name': expect.stringContaining('feature-store') } });
  });
});
