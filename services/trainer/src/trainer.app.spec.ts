import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus, InProcessTransport, type Subscription } from '@mlops/bus';
import { ConfigError } from '@mlops/config';
import { createEvent, decodeEvent, type AnyEvent, type EventEnvelope } from '@mlops/contracts';
import { waitFor } from '../../../test/support/wait-for';
import { onnxAccuracy, writeSeparableDataset, SCHEMA, type SyntheticDataset } from './test/synthetic-dataset';
import { startTrainer, type TrainerApp } from './trainer.app';
import { loadTrainerConfig, targetFor } from './trainer.config';

describe('trainer service (embedded: in-process bus, built-in trainer, HTTP jobs)', () => {
  let dir: string;
  let transport: InProcessTransport;
  let trainer: TrainerApp;
  let subscription: Subscription;
  let dataset: SyntheticDataset;
  const seen: AnyEvent[] = [];
  const of = <T extends AnyEvent['type']>(type: T, jobId: string) =>
    seen.find((e) => e.type === type && (e.data as { jobId: string }).jobId === jobId) as EventEnvelope<T> | undefined;

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const call = (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> =>
    fetch(`${trainer.url}${path}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: await r.json() }));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trainer-app-'));
    dataset = writeSeparableDataset(join(dir, 'data.arrow'));
    transport = new InProcessTransport();
    trainer = await startTrainer(
      loadTrainerConfig({ TRAINER_PORT: '0', TRAINER_ARTIFACT_ROOT: join(dir, 'models'), TRAINER_DATASET_ROOT: join(dir, 'datasets'), TRAINER_TARGET: 'label', CODE_VERSION: 'abc123' }),
      { inProcess: transport, logger: false },
    );
    subscription = await new EventBus(transport).subscribe({
      group: 'observer',
      topics: ['training.started', 'training.completed', 'training.failed'],
      handle: async (m) => void seen.push(decodeEvent(m.value)),
    });
  });
  afterAll(async () => {
    await subscription.stop();
    await trainer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('trains on dataset.materialized and publishes training.started then training.completed with a runnable model', async () => {
    const hash = createHash('sha256').update(readFileSync(dataset.path)).digest('hex');
    const materialized = createEvent('dataset.materialized', {
      source: 'feature-store',
      subject: 'customers',
      correlationId: 'loop-42',
      data: { datasetId: 'customers-v3', version: 3, hash, featureView: 'customers', model: 'churn', uri: dataset.path, rowCount: dataset.rows.length, schema: SCHEMA },
    });
    await new EventBus(transport).publish(materialized);
    const completed = await waitFor(() => seen.find((e): e is EventEnvelope<'training.completed'> => e.type === 'training.completed' && e.data.model === 'churn'), 'training.completed');
    const started = of('training.started', completed.data.jobId)!;
    expect(started).toMatchObject({ source: 'trainer', subject: 'churn', correlationId: 'loop-42', data: { model: 'churn', trainer: 'builtin:linear', datasetVersion: '3' } });
    expect(seen.indexOf(started)).toBeLessThan(seen.indexOf(completed));
    expect(completed).toMatchObject({
      source: 'trainer',
      subject: 'churn',
      correlationId: 'loop-42',
      data: {
        model: 'churn',
        datasetId: 'customers-v3',
        datasetHash: hash,
        codeVersion: 'abc123',
        artifactUri: join(dir, 'models', 'churn', completed.data.jobId, 'model.onnx'),
        params: { target: 'label', features: 'x1,x2', trainer: 'builtin:linear', seed: '42', rows_read: '400', rows_dropped: '0' },
        signature: {
          inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 2] }],
          outputs: [
            { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
            { name: 'label', datatype: 'INT64', shape: [-1] },
          ],
        },
      },
    });
    expect(completed.data.metrics.accuracy).toBeGreaterThan(0.9);
    expect(completed.data.metrics.log_loss).toBeLessThan(0.5);
    expect(completed.data.runId).toBe(completed.data.jobId);
    // the artifact directory: the model onnxruntime runs and metrics.json with per-epoch history
    expect(await onnxAccuracy(completed.data.artifactUri, dataset.rows)).toBeGreaterThan(0.9);
    const metricsFile = JSON.parse(readFileSync(join(completed.data.artifactUri, '..', 'metrics.json'), 'utf8'));
    expect(metricsFile.accuracy).toBe(completed.data.metrics.accuracy);
    expect(metricsFile.history).toHaveLength(300);
    expect(metricsFile.history[0]).toEqual({ epoch: 1, loss: expect.any(Number), val_loss: expect.any(Number), val_accuracy: expect.any(Number) });

    // a redelivered event trains once: no second job. Jobs are recorded as dataset.materialized is
    // handled, in order: once a later event's job is listed, the redelivery has been handled.
    await new EventBus(transport).publish(materialized);
    // A dataset that names no model (POST /datasets without "train": true) trains nothing.
    const plain = createEvent('dataset.materialized', {
      source: 'feature-store',
      subject: 'plain',
      data: { datasetId: 'plain-v1', version: 1, hash, featureView: 'plain', uri: dataset.path, rowCount: dataset.rows.length, schema: SCHEMA },
    });
    await new EventBus(transport).publish(plain);
    const marker = createEvent('dataset.materialized', {
      source: 'feature-store',
      subject: 'marker',
      data: { datasetId: 'marker-v1', version: 1, hash, featureView: 'marker', model: 'marker', uri: join(dir, 'marker-missing.arrow'), rowCount: 1, schema: SCHEMA },
    });
    await new EventBus(transport).publish(marker);
    const jobs = await waitFor(async () => {
      const listed: { model: string }[] = (await call('GET', '/jobs')).body.jobs;
      return listed.some((j) => j.model === 'marker') ? listed : undefined;
    }, 'the marker job');
    expect(jobs.filter((j) => j.model === 'churn')).toHaveLength(1);
    expect(jobs.filter((j) => j.model === 'plain')).toHaveLength(0);
    expect(seen.filter((e) => e.type === 'training.completed' && e.data.model === 'churn')).toHaveLength(1);
  });

  it('runs jobs submitted over HTTP (target and params per request) and reports their status', async () => {
    const submitted = await call('POST', '/jobs', { model: 'churn-http', datasetUri: dataset.path, target: 'label', params: { epochs: 50, seed: 7 } });
    expect(submitted).toMatchObject({ status: 202, body: { model: 'churn-http', status: 'running', target: 'label', jobId: expect.any(String) } });
    const jobId = submitted.body.jobId as string;
    const done = await waitFor(async () => {
      const r = await call('GET', `/jobs/${jobId}`);
      return r.body.status !== 'running' ? r : undefined;
    }, 'job to finish');
    expect(done.body).toMatchObject({ status: 'completed', params: { epochs: '50', seed: '7' }, metrics: { epochs: 50 } });
    expect(done.body.metrics.accuracy).toBeGreaterThan(0.9);
    expect(existsSync(done.body.artifactUri)).toBe(true);
    const completed = await waitFor(() => of('training.completed', jobId), 'training.completed');
    expect(completed.data.datasetId).toBeUndefined();
    expect((await call('GET', '/jobs')).body.jobs.map((j: { jobId: string }) => j.jobId)).toContain(jobId);
  });

  it("trains a retrain's dataset.materialized with the params it carries (the loop's, for the model) over TRAINER_PARAMS", async () => {
    const hash = createHash('sha256').update(readFileSync(dataset.path)).digest('hex');
    const materialized = createEvent('dataset.materialized', {
      source: 'feature-store',
      subject: 'churn_features',
      data: { datasetId: 'churn_features-v7', version: 7, hash, featureView: 'churn_features', model: 'churn-params', uri: dataset.path, rowCount: dataset.rows.length, schema: SCHEMA, params: { epochs: 20, seed: 3 } },
    });
    await new EventBus(transport).publish(materialized);
    const completed = await waitFor(() => seen.find((e) => e.type === 'training.completed' && e.data.model === 'churn-params'), 'training.completed of churn-params');
    expect((completed as EventEnvelope<'training.completed'>).data).toMatchObject({ params: { epochs: '20', seed: '3' }, metrics: { epochs: 20 } });
  });

  it('trains a dataset named by reference over HTTP with its lineage (id, hash, version), as loop-driven training', async () => {
    // The feature store's layout under its artifact root: <view>/v<version>/{data.arrow,manifest.json}.
    const hash = createHash('sha256').update(readFileSync(dataset.path)).digest('hex');
    const version = join(dir, 'datasets', 'customers', 'v2');
    mkdirSync(version, { recursive: true });
    copyFileSync(dataset.path, join(version, 'data.arrow'));
    writeFileSync(join(version, 'manifest.json'), JSON.stringify({ datasetId: 'customers-v2', featureView: 'customers', version: 2, dataFile: 'data.arrow', hash }));

    const submitted = await call('POST', '/jobs', { model: 'churn-ref', dataset: 'customers-v2', params: { epochs: 20 } });
    expect(submitted).toMatchObject({ status: 202, body: { model: 'churn-ref', datasetId: 'customers-v2', datasetHash: hash, datasetUri: join(version, 'data.arrow') } });
    const completed = await waitFor(() => of('training.completed', submitted.body.jobId), 'training.completed');
    expect(completed.data).toMatchObject({ datasetId: 'customers-v2', datasetHash: hash });
    expect(of('training.started', submitted.body.jobId)!.data.datasetVersion).toBe('2');
    const byObject = await call('POST', '/jobs', { model: 'churn-ref', dataset: { featureView: 'customers', version: 2 }, params: { epochs: 20 } });
    expect(byObject.body.datasetId).toBe('customers-v2');

    const unknown = await call('POST', '/jobs', { model: 'm', dataset: 'customers-v9' });
    expect([unknown.status, unknown.body.message]).toEqual([404, expect.stringContaining('customers version 9')]);
    const both = await call('POST', '/jobs', { model: 'm', dataset: 'customers-v2', datasetUri: dataset.path });
    expect([both.status, both.body.issues.map((i: { field: string }) => i.field)]).toEqual([400, ['dataset']]);
    const malformed = await call('POST', '/jobs', { model: 'm', dataset: 'customers' });
    expect([malformed.status, malformed.body.issues.map((i: { field: string }) => i.field)]).toEqual([400, ['dataset']]);
    writeFileSync(join(version, 'data.arrow'), 'changed since it was materialized');
    const tampered = await call('POST', '/jobs', { model: 'm', dataset: 'customers-v2' });
    // FailedPreconditionError: 400 today, 409 once @mlops/http maps it so.
    expect([400, 409]).toContain(tampered.status);
    expect(tampered.body.message).toContain('its manifest says');
  });

  it('answers bad requests with {error_code, message} and fails jobs with a clear training.failed', async () => {
    expect(await call('POST', '/jobs', { datasetUri: dataset.path })).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('model') } });
    expect(await call('POST', '/jobs', { model: 'm', datasetUri: dataset.path, params: { epochs: 0 } })).toMatchObject({ status: 400, body: { message: expect.stringContaining('epochs') } });
    expect(await call('GET', '/jobs/nope')).toMatchObject({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST' } });

    const wrongTarget = await call('POST', '/jobs', { model: 'm1', datasetUri: dataset.path, target: 'churned' });
    const failed = await waitFor(() => of('training.failed', wrongTarget.body.jobId), 'training.failed');
    expect(failed.data.error).toBe("target column 'churned' is not in the dataset (columns: customer_id, event_timestamp, x1, x2, label)");
    expect(of('training.started', wrongTarget.body.jobId)).toBeDefined();

    const missing = await call('POST', '/jobs', { model: 'm2', datasetUri: join(dir, 'missing.arrow') });
    expect((await waitFor(() => of('training.failed', missing.body.jobId), 'training.failed')).data.error).toMatch(/^cannot read dataset .*missing\.arrow/);
    expect((await call('GET', `/jobs/${missing.body.jobId}`)).body).toMatchObject({ status: 'failed', error: expect.stringContaining('cannot read dataset') });
  });

  it('reads its configuration from the environment and names bad variables', () => {
    expect(targetFor('label', 'x')).toBe('label');
    expect(targetFor('churn:churned,fraud:is_fraud,y', 'fraud')).toBe('is_fraud');
    expect(targetFor('churn:churned,y', 'other')).toBe('y');
    expect(() => loadTrainerConfig({ TRAINER_PARAMS: '[1]' })).toThrow(ConfigError);
    expect(() => loadTrainerConfig({ TRAINER_PARAMS: '[1]' })).toThrow(/TRAINER_PARAMS/);
    expect(loadTrainerConfig({})).toMatchObject({ TRAINER_PORT: 3005, TRAINER_ARTIFACT_ROOT: '.mlops/models', CODE_VERSION: 'dev', BUS: 'in-process' });
  });
});
