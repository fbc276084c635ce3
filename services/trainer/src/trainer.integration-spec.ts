import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventBus, observeKafka, startGroupsAtEnd, type EventBus, type KafkaKitOptions, type Subscription } from '@mlops/bus';
import { createEvent, type EventEnvelope } from '@mlops/contracts';
import { infraEnv } from '../../../test/infra/infra-env';
import { freePort, ServiceProcess } from '../../../test/support/service-process';
import { waitFor } from '../../../test/support/wait-for';
import { onnxAccuracy, SCHEMA, writeSeparableDataset, type SyntheticDataset } from './test/synthetic-dataset';

/**
 * The trainer as production runs it (its built entry point, its own process) on real Kafka:
 * dataset.materialized in, training.started and training.completed out, read back from Kafka.
 */
describe('trainer on real Kafka (own process, production entry point)', () => {
  const infra = infraEnv();
  const kafka: KafkaKitOptions = { clientId: 'trainer-it', brokers: infra.KAFKA_BROKERS.split(','), logLevel: 'nothing' };
  const model = `it-${randomUUID().slice(0, 8)}`;
  const group = `trainer-it-${randomUUID()}`;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const seen: { topic: string; event: EventEnvelope<any> }[] = [];
  let trainer: ServiceProcess;
  let observer: Subscription;
  let producer: EventBus;
  let url: string;
  let dir: string;
  let dataset: SyntheticDataset;

  const of = (topic: string, correlationId?: string) =>
    seen.filter((m) => m.topic === topic && m.event.data.model?.startsWith(model) && (!correlationId || m.event.correlationId === correlationId)).map((m) => m.event);
  const materialized = (version: number, modelName = model) =>
    createEvent('dataset.materialized', {
      source: 'feature-store',
      subject: model,
      data: {
        datasetId: `${model}-v${version}`,
        version,
        hash: createHash('sha256').update(readFileSync(dataset.path)).digest('hex'),
        featureView: 'customers',
        model: modelName,
        uri: dataset.path,
        rowCount: dataset.rows.length,
        schema: SCHEMA,
      },
    });
  const send = (...events: ReturnType<typeof materialized>[]) => producer.publish(events);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trainer-it-'));
    dataset = writeSeparableDataset(join(dir, 'data.arrow'));
    const topics = ['dataset.materialized', 'training.started', 'training.completed', 'training.failed'];
    // A new group reads from the beginning: start this one at the end, so datasets other
    // runs announced (long deleted) are not trained on.
    await startGroupsAtEnd(kafka, { [group]: ['dataset.materialized'] });

    observer = await observeKafka(kafka, { group: `trainer-it-observer-${randomUUID()}`, topics: topics.slice(1), fromBeginning: true }, ({ topic, value }) => {
      seen.push({ topic, event: JSON.parse(value.toString()) });
    });
    producer = createEventBus({ BUS: 'kafka', KAFKA_BROKERS: kafka.brokers, KAFKA_SSL: false }, { service: 'trainer-it' });

    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    trainer = new ServiceProcess('trainer', {
      BUS: 'kafka',
      KAFKA_BROKERS: infra.KAFKA_BROKERS,
      TRAINER_PORT: String(port),
      TRAINER_GROUP: group,
      TRAINER_ARTIFACT_ROOT: join(dir, 'models'),
      TRAINER_PARAMS: '{"epochs":100}',
      CODE_VERSION: 'git:it',
      INSTANCE_ID: `it-${randomUUID()}`,
    });
    trainer.start();
    await trainer.waitUntilReady(`${url}/health/ready`);
  }, 120_000);
  afterAll(async () => {
    await observer?.stop();
    await producer?.close();
    await trainer?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('trains on dataset.materialized from Kafka: training.started then training.completed with the lineage and a runnable model', async () => {
    const event = materialized(1);
    await send(event);
    const completed = await waitFor(() => of('training.completed', event.correlationId)[0], 'training.completed', 60_000).catch((error: Error) => {
      throw new Error(`${error.message}\ntrainer output:\n${trainer.output.join('').slice(-3_000)}`);
    });
    const started = of('training.started', event.correlationId);
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({ source: 'trainer', subject: model, data: { model, trainer: 'builtin:linear', datasetVersion: '1', jobId: completed.data.jobId } });
    expect(completed).toMatchObject({
      source: 'trainer',
      subject: model,
      data: { model, datasetId: `${model}-v1`, datasetHash: event.data.hash, codeVersion: 'git:it', params: { algorithm: 'linear', epochs: '100' } },
    });
    expect(completed.data.metrics.accuracy).toBeGreaterThan(0.9);
    expect(await onnxAccuracy(completed.data.artifactUri, dataset.rows)).toBeGreaterThan(0.9);
  });

  it('a dataset.materialized delivered twice trains once', async () => {
    const event = materialized(2);
    // The marker follows the duplicate on the same key (one partition, in order).
    const marker = materialized(3, `${model}-marker`);
    await send(event, event, marker);
    await waitFor(() => of('training.completed', marker.correlationId)[0], 'the marker job', 60_000);
    expect(of('training.completed', event.correlationId)).toHaveLength(1);
    expect(of('training.started', event.correlationId)).toHaveLength(1);
  });

  it("an HTTP job with params.algorithm 'mlp' announces builtin:mlp on Kafka", async () => {
    const reply = await fetch(`${url}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: `${model}-mlp`, datasetUri: dataset.path, params: { algorithm: 'mlp', epochs: 30, hiddenLayers: [8] } }),
    }).then((r) => r.json() as Promise<{ jobId: string }>);
    const completed = await waitFor(() => seen.find((m) => m.topic === 'training.completed' && m.event.data.jobId === reply.jobId)?.event, 'training.completed for the MLP', 60_000);
    expect(completed.data).toMatchObject({ model: `${model}-mlp`, params: { trainer: 'builtin:mlp', algorithm: 'mlp', hiddenLayers: '[8]' } });
    expect(await onnxAccuracy(completed.data.artifactUri, dataset.rows)).toBeGreaterThan(0.9);
  });

  it('consumes dataset.materialized while a long job trains: the new job is queued behind it, then trains', async () => {
    const long = await fetch(`${url}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: `${model}-long`, datasetUri: dataset.path, params: { algorithm: 'mlp', epochs: 400, hiddenLayers: [32, 32] } }),
    }).then((r) => r.json() as Promise<{ jobId: string; status: string }>);
    expect(long.status).toBe('running');
    const event = materialized(4);
    await send(event);
    // The event was taken off Kafka (and its job recorded) while the long job was training.
    const jobs = await waitFor(async () => {
      const list = ((await fetch(`${url}/jobs`).then((r) => r.json())) as { jobs: { jobId: string; status: string; model: string }[] }).jobs;
      return list.some((j) => j.jobId.includes(event.id.slice(0, 8))) ? list : undefined;
    }, 'the job of the event sent during training', 30_000);
    expect(jobs.find((j) => j.jobId === long.jobId)?.status).toBe('running');
    expect(jobs.find((j) => j.jobId.includes(event.id.slice(0, 8)))?.status).toBe('queued');
    await waitFor(() => of('training.completed', event.correlationId)[0], 'the queued job', 60_000);
    expect(seen.some((m) => m.topic === 'training.completed' && m.event.data.jobId === long.jobId)).toBe(true);
  }, 90_000);
});
