import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Float64, Table, tableToIPC, vectorFromArray, type Vector } from 'apache-arrow';
import * as ort from 'onnxruntime-node';
import { EventBus, InProcessTransport, type Subscription } from '@mlops/bus';
import { createEvent, decodeEvent, type AnyEvent, type EventEnvelope } from '@mlops/contracts';
import { waitFor } from '../../../test/support/wait-for';
import { seededRandom } from './builtin/random';
import { startTrainer, type TrainerApp } from './trainer.app';
import { loadTrainerConfig } from './trainer.config';

/** Concentric rings as a feature-store style Arrow file: only a non-linear model separates them. */
function writeRings(path: string, rows: number): { x: number; y: number; label: number }[] {
  const random = seededRandom(17);
  const out = Array.from({ length: rows }, (_, i) => {
    const radius = (i % 2 ? 2 : 1) + (random() - 0.5) * 0.4;
    const angle = random() * 2 * Math.PI;
    return { x: radius * Math.cos(angle), y: radius * Math.sin(angle), label: i % 2 };
  });
  const table = new Table({
    x: vectorFromArray(out.map((r) => r.x), new Float64()) as Vector,
    y: vectorFromArray(out.map((r) => r.y), new Float64()) as Vector,
    label: vectorFromArray(out.map((r) => r.label), new Float64()) as Vector,
  });
  writeFileSync(path, tableToIPC(table, 'file'));
  return out;
}

async function accuracy(modelPath: string, rows: { x: number; y: number; label: number }[]): Promise<number> {
  const session = await ort.InferenceSession.create(modelPath);
  try {
    const out = await session.run({ input: new ort.Tensor('float32', Float32Array.from(rows.flatMap((r) => [r.x, r.y])), [rows.length, 2]) });
    return Array.from(out.label.data as BigInt64Array, Number).filter((l, i) => l === rows[i].label).length / rows.length;
  } finally {
    await session.release();
  }
}

describe('trainer jobs: algorithm selection, a persisted queue off the bus handler, resume after a stop', () => {
  let dir: string;
  let rings: { x: number; y: number; label: number }[];
  const apps: TrainerApp[] = [];
  const subscriptions: Subscription[] = [];

  const start = async (root: string, transport: InProcessTransport, extra: Record<string, string> = {}) => {
    const app = await startTrainer(loadTrainerConfig({ TRAINER_PORT: '0', TRAINER_ARTIFACT_ROOT: root, TRAINER_TARGET: 'label', ...extra }), { inProcess: transport, logger: false });
    apps.push(app);
    return app;
  };
  const observe = async (transport: InProcessTransport) => {
    const seen: AnyEvent[] = [];
    subscriptions.push(
      await new EventBus(transport).subscribe({
        group: 'observer',
        topics: ['training.started', 'training.completed', 'training.failed'],
        handle: async (m) => void seen.push(decodeEvent(m.value)),
      }),
    );
    return seen;
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const call = (app: TrainerApp, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> =>
    fetch(`${app.url}${path}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: await r.json() }));

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'trainer-jobs-'));
    rings = writeRings(join(dir, 'rings.arrow'), 400);
  });
  afterAll(async () => {
    for (const s of subscriptions) await s.stop();
    for (const app of apps) await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("params.algorithm 'mlp' trains the MLP (documented defaults), which separates rings the linear model cannot", async () => {
    const transport = new InProcessTransport();
    const app = await start(join(dir, 'algo'), transport);
    const seen = await observe(transport);
    const finished = async (jobId: string) =>
      (await waitFor(async () => {
        const r = await call(app, 'GET', `/jobs/${jobId}`);
        return r.body.status === 'completed' || r.body.status === 'failed' ? r.body : undefined;
      }, `job ${jobId}`)) as { status: string; artifactUri: string; params: Record<string, string>; metrics: Record<string, number>; trainer: string };

    const mlp = await call(app, 'POST', '/jobs', { model: 'rings', datasetUri: join(dir, 'rings.arrow'), params: { algorithm: 'mlp', epochs: 60 } });
    const linear = await call(app, 'POST', '/jobs', { model: 'rings', datasetUri: join(dir, 'rings.arrow'), params: { epochs: 200 } });
    expect(mlp).toMatchObject({ status: 202, body: { trainer: 'builtin:mlp', status: 'running' } });
    // One job trains at a time (TRAINER_CONCURRENCY=1); the second waits its turn.
    expect(linear).toMatchObject({ status: 202, body: { trainer: 'builtin:linear', status: 'queued' } });
    const [mlpJob, linearJob] = [await finished(mlp.body.jobId), await finished(linear.body.jobId)];
    expect(mlpJob).toMatchObject({ status: 'completed', params: { algorithm: 'mlp', hiddenLayers: '[32]', activation: 'relu', optimizer: 'adam', batchSize: '32', epochs: '60' } });
    expect(linearJob).toMatchObject({ status: 'completed', params: { algorithm: 'linear' } });
    expect(mlpJob.metrics.accuracy).toBeGreaterThan(0.95);
    expect(linearJob.metrics.accuracy).toBeLessThan(0.7);
    expect(await accuracy(mlpJob.artifactUri, rings)).toBeGreaterThan(0.95);
    const completed = seen.filter((e): e is EventEnvelope<'training.completed'> & AnyEvent => e.type === 'training.completed');
    expect(completed.map((e) => e.data.jobId)).toEqual([mlp.body.jobId, linear.body.jobId]);
    expect(completed[0].data.signature?.outputs.map((o) => o.name)).toEqual(['probabilities', 'label']);

    expect(await call(app, 'POST', '/jobs', { model: 'm', datasetUri: 'x', params: { algorithm: 'trees' } })).toMatchObject({ status: 400, body: { message: expect.stringContaining("params.algorithm must be 'linear' or 'mlp'") } });
    expect((await call(app, 'POST', '/jobs', { model: 'm', datasetUri: 'x', params: { algorithm: 'mlp', hiddenLayers: [8, 8, 8] } })).body.message).toContain('params.hiddenLayers');
    expect((await call(app, 'POST', '/jobs', { model: 'm', datasetUri: 'x', params: { hiddenLayers: [8] } })).body.message).toContain("only apply to params.algorithm 'mlp'");
    expect(loadTrainerConfig({ TRAINER_PARAMS: '{"algorithm":"mlp"}' }).TRAINER_PARAMS).toEqual({ algorithm: 'mlp' });
  });

  it('keeps serving while it trains, and a stop leaves the job queued; the next start resumes it', async () => {
    const root = join(dir, 'resume');
    const first = new InProcessTransport();
    const trainer = await start(root, first);
    const firstSeen = await observe(first);
    const submitted = await call(trainer, 'POST', '/jobs', { model: 'rings', datasetUri: join(dir, 'rings.arrow'), params: { algorithm: 'mlp', epochs: 400, hiddenLayers: [32, 32] } });
    const jobId = submitted.body.jobId as string;
    // HTTP is answered during training (it runs in slices): the job is seen running.
    await waitFor(() => firstSeen.some((e) => e.type === 'training.started'), 'training.started');
    expect((await call(trainer, 'GET', `/jobs/${jobId}`)).body.status).toBe('running');
    await trainer.close();
    expect(firstSeen.map((e) => e.type)).toEqual(['training.started']);
    const record = JSON.parse(readFileSync(join(root, '.jobs', `${jobId}.json`), 'utf8'));
    expect(record).toMatchObject({ job: { jobId, status: 'queued' }, request: { params: { algorithm: 'mlp', epochs: 400 } } });

    // A damaged record is skipped (and logged), not a reason to refuse to start.
    writeFileSync(join(root, '.jobs', 'damaged.json'), '{"job": ');

    const second = new InProcessTransport();
    const secondSeen = await observe(second);
    const restarted = await start(root, second);
    const completed = await waitFor(() => secondSeen.find((e): e is EventEnvelope<'training.completed'> & AnyEvent => e.type === 'training.completed'), 'training.completed after the restart', 60_000);
    expect(completed.data).toMatchObject({ jobId, model: 'rings', params: { algorithm: 'mlp', hiddenLayers: '[32,32]' } });
    // The re-run announces the same training.started as the interrupted run did.
    expect(secondSeen.find((e) => e.type === 'training.started')!.id).toBe(firstSeen[0].id);
    expect((await call(restarted, 'GET', `/jobs/${jobId}`)).body).toMatchObject({ status: 'completed', metrics: { epochs: 400 } });
    expect((await call(restarted, 'GET', '/jobs')).body.jobs.map((j: { jobId: string }) => j.jobId)).toEqual([jobId]);
    expect(JSON.parse(readFileSync(join(root, '.jobs', `${jobId}.json`), 'utf8')).job.status).toBe('completed');
  }, 60_000);

  it('acknowledges dataset.materialized when the job is queued and trains it once, across a restart', async () => {
    const root = join(dir, 'dedupe');
    const event = createEvent('dataset.materialized', {
      source: 'feature-store',
      subject: 'rings',
      data: { datasetId: 'rings-v1', version: 1, hash: 'c'.repeat(64), featureView: 'rings', model: 'rings', uri: join(dir, 'rings.arrow'), rowCount: 400, schema: [] },
    });
    const first = new InProcessTransport();
    const seen = await observe(first);
    const trainer = await start(root, first, { TRAINER_PARAMS: '{"epochs":20}' });
    await new EventBus(first).publish([event, event]);
    await waitFor(() => seen.some((e) => e.type === 'training.completed'), 'training.completed');
    await trainer.close();

    const second = new InProcessTransport();
    const seenAfter = await observe(second);
    const restarted = await start(root, second, { TRAINER_PARAMS: '{"epochs":20}' });
    // The marker comes after the redelivery on the same key (same partition, in order), so
    // once the marker has trained, the redelivery has been handled.
    const marker = createEvent('dataset.materialized', { source: 'feature-store', subject: 'rings', data: { ...event.data, model: 'marker', datasetId: 'marker-v1' } });
    await new EventBus(second).publish([event, marker]);
    await waitFor(() => seenAfter.some((e) => e.type === 'training.completed' && (e.data as { model: string }).model === 'marker'), 'the marker job');
    expect(seen.filter((e) => e.type === 'training.completed')).toHaveLength(1);
    expect(seenAfter.filter((e) => e.type === 'training.completed').map((e) => (e.data as { model: string }).model)).toEqual(['marker']);
    expect((await call(restarted, 'GET', '/jobs')).body.jobs.filter((j: { model: string }) => j.model === 'rings')).toHaveLength(1);
  });
});
