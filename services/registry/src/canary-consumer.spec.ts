import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EventBus, InProcessTransport, type Subscription } from '@mlops/bus';
import { createEvent, decodeEvent, encodeHoldoutNpy, type AnyEvent, type EventEnvelope, type PayloadInput } from '@mlops/contracts';
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
  const register = async (model: string, correlationId: string, holdoutUri?: string): Promise<number> => {
    const before = of('model.registered', model).length;
    await observer.publish(
      createEvent('training.completed', {
        source: 'trainer',
        subject: model,
        correlationId,
        data: { jobId: `job-${before}`, model, runId: `run-${before}`, artifactUri: join(modelsDir, 'logreg_v1.onnx'), holdoutUri, metrics: { accuracy: 0.8 }, params: {} },
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
      topics: ['model.registered', 'model.promoted', 'model.rolled_back', 'deployment.requested'],
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

  it("a latency bound: pending at gate time, the holdout stored and sent for serving's warm-up; serving's report fills in the check: a failure turns the decision failed and the version rejected (promote refused), a pass records the measurement", async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const http = (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> =>
      fetch(`${registry.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) }).then(async (r) => ({
        status: r.status,
        body: await r.json(),
      }));
    const holdout = join(modelsDir, 'holdout.npy');
    writeFileSync(holdout, encodeHoldoutNpy([Array.from({ length: 30 }, (_, i) => i / 30)], 30));
    const v1 = await register('timed', 'c-timed-1');
    await observer.publish(deployed('timed', v1, 1, 'c-timed-1'));
    await waitFor(() => of('model.promoted', 'timed')[0], 'timed v1 champion');
    expect((await http('PUT', '/models/timed/policy', { latencyP99Ms: 5 })).status).toBe(200);

    const v2 = await register('timed', 'c-timed-2', holdout);
    const requested = await waitFor(() => of('deployment.requested', 'timed').find((e) => e.data.version === v2), 'deployment.requested of v2');
    // The holdout is copied into the registry's store beside the model, as the model is.
    expect(requested.data.validation).toEqual({ latencyP99Ms: 5, holdoutUri: expect.stringMatching(new RegExp(`^${artifactRoot}/sha256/.*\\.npy$`)) });
    expect(readFileSync(requested.data.validation!.holdoutUri!)).toEqual(readFileSync(holdout));
    const pending = (await http('GET', `/models/timed/versions/${v2}/gate`)).body;
    expect(pending).toMatchObject({ passed: true, failed_checks: [], pending_checks: ['latency'] });
    expect(pending.checks.find((c: { name: string }) => c.name === 'latency')).toMatchObject({ passed: null, measured: null, bound: 5 });

    const report = (version: number, status: 'serving' | 'rejected', passed: boolean, measured: number): PayloadInput<'deployment.completed'> => ({
      model: 'timed',
      version,
      status,
      trafficShare: status === 'serving' ? 0.1 : 0,
      strategy: 'canary',
      checks: [{ name: 'latency', passed, measured, bound: 5, detail: `p99 ${measured} ms ${passed ? '<=' : '>'} bound 5 ms (200 holdout rows, one per request, after 5 untimed)` }],
    });
    await observer.publish(createEvent('deployment.completed', { source: 'serving', subject: 'timed', correlationId: 'c-timed-2', data: report(v2, 'rejected', false, 41.2) }));
    const rejected = await waitFor(async () => {
      const gate = (await http('GET', `/models/timed/versions/${v2}/gate`)).body;
      return gate.passed === false ? gate : undefined;
    }, 'the gate decision of v2 failed by serving');
    expect(rejected).toMatchObject({ failed_checks: ['latency'], pending_checks: [] });
    expect(rejected.reason).toMatch(/^failing checks of release policy version 1: latency \(p99 41.2 ms > bound 5 ms /);
    expect(rejected.checks.find((c: { name: string }) => c.name === 'latency')).toMatchObject({ passed: false, measured: 41.2, bound: 5 });
    const refused = await http('POST', '/models/timed/promote', { version: v2 });
    expect(refused).toMatchObject({ status: 409, body: { message: expect.stringContaining('serving rejected it before routing it (latency: p99 41.2 ms > bound 5 ms') } });
    await expect(registry.service.getByAlias('timed', 'challenger')).rejects.toThrow();
    const listed = (await http('GET', '/models/timed/versions')).body.versions;
    expect(listed.find((v: { version: number }) => v.version === v2)).toMatchObject({ serving: { status: 'rejected', share: 0 }, gate: { passed: false, failedChecks: ['latency'] } });
    expect(await champion('timed')).toBe(v1);

    const v3 = await register('timed', 'c-timed-3', holdout);
    await observer.publish(createEvent('deployment.completed', { source: 'serving', subject: 'timed', correlationId: 'c-timed-3', data: report(v3, 'serving', true, 0.8) }));
    const passed = await waitFor(async () => {
      const gate = (await http('GET', `/models/timed/versions/${v3}/gate`)).body;
      return gate.pending_checks.length === 0 ? gate : undefined;
    }, 'the latency check of v3 measured');
    expect(passed).toMatchObject({ passed: true, failed_checks: [] });
    expect(passed.checks.find((c: { name: string }) => c.name === 'latency')).toMatchObject({ passed: true, measured: 0.8, bound: 5 });
    expect(passed.reason).toMatch(/release policy version 1: all 2 checks pass$/);
  });
});
