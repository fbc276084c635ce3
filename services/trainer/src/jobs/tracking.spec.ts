import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus, InProcessTransport, type Subscription } from '@mlops/bus';
import { decodeEvent, type AnyEvent, type EventEnvelope } from '@mlops/contracts';
import { waitFor } from '../../../../test/support/wait-for';
import { writeSeparableDataset, type SyntheticDataset } from '../test/synthetic-dataset';
import { startTrainer, type TrainerApp } from '../trainer.app';
import { loadTrainerConfig } from '../trainer.config';

/** A minimal MLflow REST double that records what the trainer sends. */
function fakeMlflow() {
  const calls: { path: string; body: Record<string, unknown> }[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const path = (req.url ?? '').replace('/api/2.0/mlflow', '');
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      calls.push({ path, body });
      const reply = (status: number, json: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
      if (path.startsWith('/experiments/get-by-name')) return reply(404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'no such experiment' });
      if (path === '/experiments/create') return reply(200, { experiment_id: '7' });
      if (path === '/runs/create') return reply(200, { run: { info: { run_id: 'a'.repeat(32) } } });
      if (path === '/runs/log-batch' || path === '/runs/update') return reply(200, {});
      reply(404, { error_code: 'ENDPOINT_NOT_FOUND', message: path });
    });
  });
  return { server, calls };
}

describe('trainer -> tracking (TRACKING_URI: MLflow REST runs/create, log-batch, runs/update)', () => {
  let dir: string;
  let dataset: SyntheticDataset;
  const fake = fakeMlflow();
  const apps: TrainerApp[] = [];
  const subscriptions: Subscription[] = [];

  async function trainerWith(trackingUri: string) {
    const transport = new InProcessTransport();
    const app = await startTrainer(loadTrainerConfig({ TRAINER_PORT: '0', TRAINER_ARTIFACT_ROOT: join(dir, 'models'), TRACKING_URI: trackingUri, CODE_VERSION: 'v1.2.3' }), {
      inProcess: transport,
      logger: false,
    });
    apps.push(app);
    const events: AnyEvent[] = [];
    subscriptions.push(await new EventBus(transport).subscribe({ group: 'observer', topics: ['training.completed', 'training.failed'], handle: async (m) => void events.push(decodeEvent(m.value)) }));
    return { app, events };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trainer-tracking-'));
    dataset = writeSeparableDataset(join(dir, 'data.arrow'));
    await new Promise<void>((r) => fake.server.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    for (const s of subscriptions) await s.stop();
    for (const a of apps) await a.close();
    await new Promise((r) => fake.server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs params, final and per-epoch metrics and lineage tags as one run, whose id training.completed carries', async () => {
    const { app, events } = await trainerWith(`http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`);
    const { job, done } = app.service.submit({ model: 'churn', datasetUri: dataset.path, params: { epochs: 400 }, datasetHash: 'f'.repeat(64) });
    await done;
    const completed = (await waitFor(() => events.find((e) => (e.data as { jobId?: string }).jobId === job.jobId), 'outcome')) as EventEnvelope<'training.completed'>;
    expect(completed.type).toBe('training.completed');
    expect(completed.data.runId).toBe('a'.repeat(32));
    expect(fake.calls.map((c) => c.path)).toEqual([
      '/experiments/get-by-name?experiment_name=churn',
      '/experiments/create',
      '/runs/create',
      '/runs/log-batch',
      '/runs/log-batch',
      '/runs/log-batch',
      // This double has no logged models (an MLflow 2 server): the run is still logged and ended.
      '/logged-models',
      '/runs/update',
    ]);
    const create = fake.calls[2].body as { experiment_id: string; tags: { key: string; value: string }[] };
    expect(create.experiment_id).toBe('7');
    expect(create.tags).toEqual(
      expect.arrayContaining([
        { key: 'mlflow.runName', value: job.jobId },
        { key: 'mlflow.source.git.commit', value: 'v1.2.3' },
        { key: 'mlops.dataset_hash', value: 'f'.repeat(64) },
        { key: 'mlops.artifact_uri', value: completed.data.artifactUri },
      ]),
    );
    const batches = fake.calls.filter((c) => c.path === '/runs/log-batch').map((c) => c.body as { params?: { key: string; value: string }[]; metrics?: { key: string; value: number; step: number }[] });
    expect(batches[0].params).toEqual(expect.arrayContaining([{ key: 'epochs', value: '400' }, { key: 'target', value: 'label' }]));
    // 400 epochs x 3 per-epoch metrics + the final ones, at most 1,000 per request
    const metrics = batches.slice(1).flatMap((b) => b.metrics ?? []);
    expect(batches.slice(1).every((b) => (b.metrics ?? []).length <= 1000)).toBe(true);
    expect(metrics.filter((m) => m.key === 'epoch_loss').map((m) => m.step)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    expect(metrics.find((m) => m.key === 'accuracy')?.value).toBe(completed.data.metrics.accuracy);
    expect(fake.calls[7].body).toMatchObject({ run_id: 'a'.repeat(32), status: 'FINISHED' });
    expect(fake.calls[6].body).toMatchObject({ experiment_id: '7', name: 'model', source_run_id: 'a'.repeat(32) });
    expect(completed.data.loggedModel).toBeUndefined();
  });

  it('fails the job with training.failed when the tracking server is unreachable', async () => {
    const { app, events } = await trainerWith('http://127.0.0.1:1');
    const { job, done } = app.service.submit({ model: 'churn', datasetUri: dataset.path, params: { epochs: 5 } });
    await done;
    const failed = await waitFor(() => events.find((e) => (e.data as { jobId?: string }).jobId === job.jobId), 'outcome');
    expect(failed).toMatchObject({ type: 'training.failed', data: { error: expect.stringContaining('logging the run to tracking at http://127.0.0.1:1 failed') } });
  });
});
