import { execFile, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createEventBus, KafkaAdminKit, observeKafka, type EventBus, type KafkaKitOptions, type Subscription } from '@mlops/bus';
import { createEvent } from '@mlops/contracts';
import { infraEnv } from '../../../test/infra/infra-env';
import { interopPython } from '../../../test/support/python';
import { freePort, ServiceProcess } from '../../../test/support/service-process';
import { waitFor } from '../../../test/support/wait-for';
import { call, inferenceClient, makeTestModels, type InferenceClient, type TestModels } from '../test/models';

const ROOT = resolve(__dirname, '../../..');
/** The service's shutdown grace (SERVING_SHUTDOWN_GRACE_S); a drain that needs SIGKILL after it fails the test. */
const GRACE_S = 5;

/** serving as production runs it: dist/services/serving/src/main.js, its own process, BUS=kafka. */
describe('serving on real Kafka (own process, production entry point)', () => {
  const infra = infraEnv();
  const kafka: KafkaKitOptions = { clientId: 'serving-it', brokers: infra.KAFKA_BROKERS.split(','), logLevel: 'warn' };
  let models: TestModels;
  let serving: ServiceProcess;
  let address: string;
  let client: InferenceClient;
  let consumer: Subscription;
  let producer: EventBus;
  const seen: { type: string; data: Record<string, unknown> }[] = [];

  beforeAll(async () => {
    models = makeTestModels(interopPython());
    const admin = new KafkaAdminKit(kafka);
    await admin.createTopics(['prediction.logged', 'deployment.requested', 'deployment.completed']).finally(() => admin.close());
    consumer = await observeKafka(kafka, { group: `serving-observer-${randomUUID()}`, topics: ['prediction.logged', 'deployment.completed'] }, ({ value }) => {
      seen.push(JSON.parse(value.toString()));
    });
    producer = createEventBus({ BUS: 'kafka', KAFKA_BROKERS: kafka.brokers, KAFKA_SSL: false }, { service: 'serving-it' });

    const port = await freePort();
    address = `127.0.0.1:${port}`;
    serving = new ServiceProcess('serving', {
      BUS: 'kafka',
      KAFKA_BROKERS: infra.KAFKA_BROKERS,
      SERVING_GRPC_PORT: String(port),
      SERVING_MODELS: `churn=${models.logregV1}`,
      SERVING_GROUP: `serving-it-${randomUUID()}`,
      SERVING_SHUTDOWN_GRACE_S: String(GRACE_S),
    });
    serving.start();
    client = inferenceClient(address);
    await waitFor(
      async () => {
        if (serving.output.join('').includes('failed to start')) throw new Error(serving.output.join(''));
        return (await call<{ ready: boolean }>(client, 'ServerReady', {})).ready;
      },
      'serving to be ready',
      60_000,
    );
    // The group joins after the server is ready; give the consumer a moment to get partitions.
    await new Promise((r) => setTimeout(r, 1_000));
  });
  afterAll(async () => {
    client?.close();
    await serving?.stop();
    await consumer?.stop();
    await producer?.close();
  });

  it('serves the official tritonclient and logs each predicted row to Kafka', async () => {
    const script = resolve(ROOT, 'test/fixtures/serving/triton_client_check.py');
    const { stdout } = await promisify(execFile)(interopPython(), [script, address, 'churn', join(models.dir, 'expected.json'), 'logreg_v1']);
    const report = JSON.parse(stdout);
    expect(report.response).toMatchObject({ model_version: '1', labels_match: true });
    expect(report.response.max_abs_error).toBeLessThan(1e-5);
    expect(report.bad_shape.status).toBe('StatusCode.INVALID_ARGUMENT');
    const rows = models.expected.logreg_v1.rows.length;
    await waitFor(
      () => seen.some((e) => e.type === 'prediction.logged' && e.data.requestKey === 'triton-1' && e.data.schemaVersion === 2 && (e.data.predictionIds as string[]).length === rows),
      `prediction.logged of the request's ${rows} rows on Kafka`,
    );
  });

  it('hot-swaps to the version a deployment.requested names, and reports deployment.completed', async () => {
    const version = 5;
    const event = createEvent('deployment.requested', {
      source: 'registry',
      subject: 'churn',
      data: { model: 'churn', version, artifactUri: models.logregV2, strategy: 'full' },
    });
    await producer.publish(event);
    await waitFor(
      () => seen.find((e) => e.type === 'deployment.completed' && e.data.version === version && e.data.status === 'serving'),
      'deployment.completed',
    );
    const response = await call<{ model_version: string }>(client, 'ModelInfer', {
      model_name: 'churn',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 30], contents: { fp32_contents: models.expected.logreg_v2.rows[0] } }],
    });
    expect(response.model_version).toBe(String(version));
  });

  it('a canary deployment.requested over Kafka splits traffic by request key, sticky per key', async () => {
    const version = 6;
    const event = createEvent('deployment.requested', {
      source: 'registry',
      subject: 'churn',
      data: { model: 'churn', version, artifactUri: models.logregV1, strategy: 'canary', canaryShare: 0.5 },
    });
    await producer.publish(event);
    const done = await waitFor(
      () => seen.find((e) => e.type === 'deployment.completed' && e.data.version === version),
      'deployment.completed for the canary',
    );
    expect(done.data).toMatchObject({ status: 'serving', trafficShare: 0.5 });
    const versionFor = async (key: string) =>
      (
        await call<{ model_version: string }>(client, 'ModelInfer', {
          model_name: 'churn',
          id: key,
          inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 30], contents: { fp32_contents: models.expected.logreg_v1.rows[0] } }],
        })
      ).model_version;
    const keys = Array.from({ length: 40 }, (_, i) => `canary-key-${i}`);
    const first = await Promise.all(keys.map(versionFor));
    // Stable is version 5 (the previous test's full rollout); with a 0.5 share both answer.
    expect(new Set(first)).toEqual(new Set(['5', String(version)]));
    expect(await Promise.all(keys.map(versionFor))).toEqual(first);
  });

  it('exits 1 on bad configuration, naming the variable', () => {
    const run = spawnSync(process.execPath, [serving.entry], {
      cwd: ROOT,
      env: { ...process.env, SERVING_MODELS: 'churn', SERVING_LOG_SAMPLE_RATE: '2' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('SERVING_MODELS');
    expect(run.stderr).toContain('SERVING_LOG_SAMPLE_RATE: expected a share between 0 and 1');
  });

  it('drains and exits 0 on SIGTERM within its grace period (no SIGKILL needed)', async () => {
    const exit = await serving.stop(GRACE_S * 1000);
    expect(serving.output.join('')).toContain('SIGTERM, draining');
    expect(exit).toMatchObject({ code: 0, signal: null, killedAfterGrace: false });
  });
});
