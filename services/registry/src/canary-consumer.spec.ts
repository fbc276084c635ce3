import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EventBus, InProcessTransport, type Subscription } from '@mlops/bus';
import { createEvent, decodeEvent, type AnyEvent, type EventEnvelope } from '@mlops/contracts';
import type { DomainError } from '@mlops/errors';
import { apiErrorOf } from '@mlops/http';
import { interopPython } from '../../../test/support/python';
import { waitFor } from '../../../test/support/wait-for';
import { startRegistry, type RegistryApp } from './registry.app';
import { loadRegistryConfig } from './registry.config';

describe('registry canary consumer: canary verdicts and the first champion (in-process bus, SQLite)', () => {
  let transport: InProcessTransport;
  let registry: RegistryApp;
  let observer: EventBus;
  let subscription: Subscription;
  let modelsDir: string;
  let artifactRoot: string;
  const seen: AnyEvent[] = [];

  const of = <T extends AnyEvent['type']>(type: T, model: string) =>
    seen.filter((e): e is EventEnvelope<T> & AnyEvent => e.type === type && (e.data as { model: string }).model === model);
  const champion = async (model: string) => Number((await registry.service.getByAlias(model, 'champion')).version);

  /** Registers a version through the gate (training.completed); resolves with its number. */
  const register = async (model: string, correlationId: string): Promise<number> => {
    const before = of('model.registered', model).length;
    await observer.publish(
      createEvent('training.completed', {
        source: 'trainer',
        subject: model,
        correlationId,
        data: { jobId: `job-${before}`, model, runId: `run-${before}`, artifactUri: join(modelsDir, 'logreg_v1.onnx'), metrics: { accuracy: 0.8 }, params: {} },
      }),
    );
    const registered = await waitFor(() => of('model.registered', model)[before], `model.registered #${before + 1} of ${model}`);
    return registered.data.version;
  };
  const deployed = (model: string, version: number, trafficShare: number, correlationId?: string, strategy?: 'blue-green' | 'shadow') =>
    createEvent('deployment.completed', { source: 'serving', subject: model, correlationId, data: { model, version, status: 'serving', trafficShare, ...(strategy ? { strategy } : {}) } });
  const verdict = (model: string, version: number, championVersion: number, v: 'promote' | 'rollback', correlationId: string) =>
    createEvent('canary.evaluated', {
      source: 'monitoring',
      subject: model,
      correlationId,
      data: { model, version, championVersion, verdict: v, reason: v === 'promote' ? 'canary accuracy 0.91 vs champion 0.90' : 'canary accuracy 0.55 vs champion 0.90 (tolerance 0.05)', predictions: 120, labels: 60, metric: 'accuracy' },
    });

  let markers = 0;
  /**
   * Resolves once the canary consumer has handled every message published before on
   * `topic`, and the observer has seen their outputs on `output`: a model no test uses gets a
   * message on the same topic after them (handled in order) whose output on `output` is seen.
   * deployment.completed: its first deployment (it becomes champion, model.promoted);
   * canary.evaluated: then a verdict on its canary (model.promoted or model.rolled_back).
   */
  async function settled(topic: 'deployment.completed' | 'canary.evaluated', output: 'model.promoted' | 'model.rolled_back' = 'model.promoted'): Promise<void> {
    const model = `marker${markers++}`;
    const v1 = await register(model, `${model}-1`);
    await observer.publish(deployed(model, v1, 1, `${model}-1`));
    await waitFor(() => of('model.promoted', model)[0], `${model} v1 champion`);
    if (topic === 'deployment.completed') return;
    const v2 = await register(model, `${model}-2`);
    await observer.publish(verdict(model, v2, v1, output === 'model.promoted' ? 'promote' : 'rollback', `${model}-2`));
    await waitFor(() => of(output, model).find((e) => e.data.version === v2), `${output} of ${model} v2`);
  }

  beforeAll(async () => {
    modelsDir = mkdtempSync(join(tmpdir(), 'canary-models-'));
    execFileSync(interopPython(), [resolve(__dirname, '../../../test/fixtures/serving/make_models.py'), modelsDir], { stdio: 'pipe' });
    artifactRoot = mkdtempSync(join(tmpdir(), 'canary-artifacts-'));
    transport = new InProcessTransport();
    registry = await startRegistry(
      loadRegistryConfig({ DATABASE_URL: 'sqlite::memory:', REGISTRY_PORT: '0', REGISTRY_ARTIFACT_ROOT: artifactRoot }),
      { inProcess: transport, logger: false },
    );
    observer = new EventBus(transport);
    subscription = await observer.subscribe({
      group: 'observer',
      topics: ['model.registered', 'model.promoted', 'model.rolled_back'],
      handle: async (m) => void seen.push(decodeEvent(m.value)),
    });
  }, 120_000);
  afterAll(async () => {
    await subscription?.stop();
    await registry?.close();
    for (const dir of [modelsDir, artifactRoot]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the first deployed version of a model becomes champion; a later deployment does not move it', async () => {
    const v1 = await register('first', 'c-first');
    await observer.publish(deployed('first', v1, 1, 'c-first'));
    const promoted = await waitFor(() => of('model.promoted', 'first')[0], 'model.promoted of the first version');
    expect(promoted.data).toMatchObject({ version: v1, alias: 'champion' });
    expect(promoted.data.previousVersion).toBeUndefined();

    const v2 = await register('first', 'c-second');
    await observer.publish(deployed('first', v2, 0.1, 'c-second'));
    await settled('deployment.completed');
    expect(await champion('first')).toBe(v1);
    expect(of('model.promoted', 'first')).toHaveLength(1);
  });

  it('canary.evaluated promote: the canary becomes champion once; a redelivered verdict publishes model.promoted again under the same id', async () => {
    const v1 = await register('promo', 'p1');
    await observer.publish(deployed('promo', v1, 1, 'p1'));
    await waitFor(() => of('model.promoted', 'promo')[0], 'first champion');
    const v2 = await register('promo', 'p2');
    const event = verdict('promo', v2, v1, 'promote', 'p2');
    await observer.publish(event);
    await observer.publish(event);
    const promoted = await waitFor(() => of('model.promoted', 'promo')[1], 'model.promoted of the canary');
    expect(promoted.data).toMatchObject({ version: v2, previousVersion: v1, alias: 'champion' });
    expect(promoted.correlationId).toBe('p2');
    await settled('canary.evaluated', 'model.promoted');
    // A redelivered verdict publishes its model.promoted again under the same id (consumers
    // apply an event id once): a promotion recorded before the broker went away is not lost.
    const ids = of('model.promoted', 'promo').map((e) => e.id);
    expect(new Set(ids).size).toBe(2);
    expect(ids.slice(1).every((id) => id === promoted.id)).toBe(true);
    expect(await champion('promo')).toBe(v2);
  });

  it('canary.evaluated rollback: model.rolled_back with the reason, the champion stays, the canary loses challenger', async () => {
    const v1 = await register('roll', 'r1');
    await observer.publish(deployed('roll', v1, 1, 'r1'));
    await waitFor(() => of('model.promoted', 'roll')[0], 'first champion');
    const v2 = await register('roll', 'r2');
    expect((await registry.service.getByAlias('roll', 'challenger')).version).toBe(String(v2));
    const event = verdict('roll', v2, v1, 'rollback', 'r2');
    await observer.publish(event);
    const rolled = await waitFor(() => of('model.rolled_back', 'roll')[0], 'model.rolled_back');
    expect(rolled.data).toEqual({ model: 'roll', version: v2, restoredVersion: v1, reason: event.data.reason });
    expect(rolled.correlationId).toBe('r2');
    expect(await champion('roll')).toBe(v1);
    // The domain's NotFoundError as the HTTP client sees it.
    await expect(registry.service.getByAlias('roll', 'challenger').catch((error: DomainError) => Promise.reject(apiErrorOf(error)))).rejects.toMatchObject({ code: 'RESOURCE_DOES_NOT_EXIST' });

    // A redelivered verdict republishes the same event (same id), nothing else changes.
    await observer.publish(event);
    await waitFor(() => of('model.rolled_back', 'roll')[1], 'the redelivered model.rolled_back');
    expect(new Set(of('model.rolled_back', 'roll').map((e) => e.id)).size).toBe(1);
    expect(await champion('roll')).toBe(v1);
    expect(of('model.promoted', 'roll')).toHaveLength(1);
  });

  it('a rollback verdict for a version already champion restores the one before it; the model.rolled_back goes out with the ack, the same id on redelivery', async () => {
    const v1 = await register('late', 'l1');
    await observer.publish(deployed('late', v1, 1, 'l1'));
    await waitFor(() => of('model.promoted', 'late')[0], 'first champion');
    const v2 = await register('late', 'l2');
    await observer.publish(deployed('late', v2, 1, 'l2', 'blue-green'));
    await waitFor(() => of('model.promoted', 'late')[1], 'v2 champion by its blue-green switch');
    const event = verdict('late', v2, v1, 'rollback', 'l2');
    await observer.publish(event);
    const rolled = await waitFor(() => of('model.rolled_back', 'late')[0], 'model.rolled_back of the champion');
    expect(rolled.data).toMatchObject({ model: 'late', version: v2, restoredVersion: v1 });
    expect(rolled.data.reason).toContain(event.data.reason);
    expect(await champion('late')).toBe(v1);
    await observer.publish(event);
    await waitFor(() => of('model.rolled_back', 'late')[1], 'the redelivered verdict\'s model.rolled_back');
    expect(new Set(of('model.rolled_back', 'late').map((e) => e.id)).size).toBe(1);
    expect(await champion('late')).toBe(v1);
  });

  it('a stale verdict for a version older than the champion is ignored', async () => {
    const v1 = await register('stale', 's1');
    await observer.publish(deployed('stale', v1, 1, 's1'));
    await waitFor(() => of('model.promoted', 'stale')[0], 'first champion');
    const v2 = await register('stale', 's2');
    await observer.publish(verdict('stale', v2, v1, 'promote', 's2'));
    await waitFor(() => of('model.promoted', 'stale')[1], 'v2 promoted');
    await observer.publish(verdict('stale', v1, v2, 'rollback', 's1'));
    await settled('canary.evaluated', 'model.rolled_back');
    expect(of('model.rolled_back', 'stale')).toHaveLength(0);
    expect(await champion('stale')).toBe(v2);
  });

  it('blue-green: the switched-to version becomes champion at once; a rollback restores the previous one', async () => {
    const v1 = await register('bluegreen', 'b1');
    await observer.publish(deployed('bluegreen', v1, 1, 'b1'));
    await waitFor(() => of('model.promoted', 'bluegreen')[0], 'first champion');
    const v2 = await register('bluegreen', 'b2');
    await observer.publish(deployed('bluegreen', v2, 1, 'b2', 'blue-green'));
    const promoted = await waitFor(() => of('model.promoted', 'bluegreen')[1], 'the blue-green version champion');
    expect(promoted.data).toMatchObject({ version: v2, previousVersion: v1, alias: 'champion' });
    expect(await registry.service.rollback('bluegreen', 'errors after the switch')).toEqual({ model: 'bluegreen', rolled_back_version: v2, champion: v1 });
    const rolled = await waitFor(() => of('model.rolled_back', 'bluegreen')[0], 'model.rolled_back');
    expect(rolled.data).toEqual({ model: 'bluegreen', version: v2, restoredVersion: v1, reason: 'errors after the switch' });
  });

  it('a shadow verdict drops the shadow as a canary verdict rolls back a canary: model.rolled_back, champion unchanged', async () => {
    const v1 = await register('shadowed', 'h1');
    await observer.publish(deployed('shadowed', v1, 1, 'h1'));
    await waitFor(() => of('model.promoted', 'shadowed')[0], 'first champion');
    const v2 = await register('shadowed', 'h2');
    await observer.publish(deployed('shadowed', v2, 0, 'h2', 'shadow'));
    const { data } = verdict('shadowed', v2, v1, 'rollback', 'h2');
    await observer.publish(
      createEvent('canary.evaluated', { source: 'monitoring', subject: 'shadowed', correlationId: 'h2', data: { ...data, strategy: 'shadow', agreement: { compared: 120, share: 0.7 } } }),
    );
    const rolled = await waitFor(() => of('model.rolled_back', 'shadowed')[0], 'model.rolled_back of the shadow');
    expect(rolled.data).toMatchObject({ model: 'shadowed', version: v2, restoredVersion: v1 });
    expect(await champion('shadowed')).toBe(v1);
  });
});
