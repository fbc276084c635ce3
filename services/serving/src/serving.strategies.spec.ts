import { EventBus, InProcessTransport, type Subscription } from '@mlops/bus';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEvent, decodeEvent, decodePredictionTensors, encodeHoldoutNpy, PredictionRows, type EventEnvelope, type PayloadInput } from '@mlops/contracts';
import { interopPython } from '../../../test/support/python';
import { waitFor } from '../../../test/support/wait-for';
import { call, inferenceClient, makeTestModels, type InferenceClient, type TestModels } from '../test/models';
import { startServing, type ServingApp } from './serving.app';
import { loadServingConfig } from './serving.config';

interface InferResponse {
  model_version: string;
  parameters: Record<string, { string_param?: string }>;
  outputs: { name: string; contents: { fp32_contents: number[]; int64_contents: string[] } }[];
}

/** What a client sees of an answer: the version and every output's contents. */
const answerOf = (r: InferResponse) => ({ version: r.model_version, route: r.parameters.route.string_param, outputs: r.outputs.map((o) => [o.name, o.contents]) });

describe('serving: release strategies shadow and blue-green (in-process bus, real onnxruntime)', () => {
  let models: TestModels;
  let transport: InProcessTransport;
  let serving: ServingApp;
  let client: InferenceClient;
  let observer: EventBus;
  const subscriptions: Subscription[] = [];
  const completed: EventEnvelope<'deployment.completed'>[] = [];
  const logged: EventEnvelope<'prediction.logged'>[] = [];
  const lines: string[] = [];

  const row = (i: number) => models.expected.logreg_v1.rows[i % models.expected.logreg_v1.rows.length];
  const infer = (id: string, i: number, extra: Record<string, unknown> = {}) =>
    call<InferResponse>(client, 'ModelInfer', { model_name: 'churn', id, inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 30], contents: { fp32_contents: row(i) } }], ...extra });
  const deploy = async (version: number, artifact: string, strategy: PayloadInput<'deployment.requested'>['strategy'], extra: Partial<PayloadInput<'deployment.requested'>> = {}) => {
    await observer.publish(createEvent('deployment.requested', { source: 'registry', subject: 'churn', data: { model: 'churn', version, artifactUri: `file://${artifact}`, strategy, ...extra } }));
    return waitFor(() => completed.find((e) => e.data.version === version), `deployment.completed for version ${version}`);
  };
  const rolledBack = (data: PayloadInput<'model.rolled_back'>) => observer.publish(createEvent('model.rolled_back', { source: 'registry', subject: 'churn', data }));
  const promoted = (data: PayloadInput<'model.promoted'>) => observer.publish(createEvent('model.promoted', { source: 'registry', subject: 'churn', data }));

  beforeAll(async () => {
    models = makeTestModels(interopPython());
    transport = new InProcessTransport();
    const log = (line: string) => void lines.push(line);
    serving = await startServing(loadServingConfig({ SERVING_GRPC_PORT: '0', SERVING_MODELS: `churn=${models.logregV1}`, SERVING_BLUE_GREEN_KEEP_S: '600' }), {
      inProcess: transport,
      logger: { log, warn: log, error: log },
    });
    client = inferenceClient(serving.address);
    observer = new EventBus(transport);
    for (const type of ['deployment.completed', 'prediction.logged'] as const) {
      subscriptions.push(
        await observer.subscribe({
          group: `observer-${type}`,
          topics: [type],
          handle: async (m) => {
            const event = decodeEvent(m.value);
            if (event.type === 'deployment.completed') completed.push(event);
            if (event.type === 'prediction.logged') logged.push(event);
          },
        }),
      );
    }
  }, 60_000);
  afterAll(async () => {
    client?.close();
    for (const s of subscriptions) await s.stop();
    await serving?.close();
  });

  it('a shadow never changes an answer: request by request the same as the champion alone; its own answers are logged marked shadow under the same prediction ids', async () => {
    const N = 40;
    const before: unknown[] = [];
    for (let i = 0; i < N; i++) before.push(answerOf(await infer(`before-${i}`, i)));
    const done = await deploy(2, models.logregV2, 'shadow');
    expect(done.data).toMatchObject({ status: 'serving', trafficShare: 0, strategy: 'shadow' });
    expect(serving.repository.route('churn')).toEqual({ stable: 1, shadow: { version: 2 } });
    const after: unknown[] = [];
    for (let i = 0; i < N; i++) after.push(answerOf(await infer(`shadowed-${i}`, i)));
    expect(after).toEqual(before);

    const shadowEvents = await waitFor(() => {
      const found = logged.filter((e) => e.data.schemaVersion === 2 && e.data.shadow && e.data.requestKey?.startsWith('shadowed-'));
      return found.length === N ? found : undefined;
    }, 'a shadow prediction.logged for every request');
    const champion = new Map(logged.filter((e) => e.data.schemaVersion === 2 && !e.data.shadow && e.data.requestKey?.startsWith('shadowed-')).map((e) => [e.data.requestKey, e]));
    let differing = 0;
    for (const event of shadowEvents) {
      if (event.data.schemaVersion !== 2) throw new Error('v2 expected');
      expect(event.data).toMatchObject({ model: 'churn', version: 2, shadow: true });
      const answered = champion.get(event.data.requestKey)!;
      if (answered.data.schemaVersion !== 2) throw new Error('v2 expected');
      expect(answered.data.version).toBe(1);
      expect(event.data.predictionIds).toEqual(answered.data.predictionIds);
      const i = Number(event.data.requestKey!.split('-')[1]) % models.expected.logreg_v2.label.length;
      const shadowOutputs = new PredictionRows(decodePredictionTensors(event.data)).outputs(0);
      expect(shadowOutputs.label).toBe(models.expected.logreg_v2.label[i]);
      const championOutputs = new PredictionRows(decodePredictionTensors(answered.data)).outputs(0);
      if (JSON.stringify(shadowOutputs.probabilities) !== JSON.stringify(championOutputs.probabilities)) differing++;
    }
    // The two versions differ: the shadow's answers were really its own.
    expect(differing).toBeGreaterThan(0);
  });

  it('model.rolled_back of the shadow drops and unloads it; the champion is unchanged', async () => {
    await rolledBack({ model: 'churn', version: 2, restoredVersion: 1, reason: 'shadow worse than champion' });
    await waitFor(() => (serving.repository.versions('churn').includes(2) ? undefined : true), 'the shadow unloaded');
    expect(serving.repository.route('churn')).toEqual({ stable: 1 });
    expect(lines.some((l) => l.includes("model 'churn' shadow version 2 rolled back (shadow worse than champion): dropped and unloaded"))).toBe(true);
    expect((await infer('after-drop', 0)).model_version).toBe('1');
  });

  it('model.promoted of a shadow makes it stable and unloads the old one', async () => {
    await deploy(3, models.logregV2, 'shadow');
    await promoted({ model: 'churn', version: 3, alias: 'champion', previousVersion: 1 });
    await waitFor(() => (serving.repository.route('churn')?.stable === 3 ? true : undefined), 'the shadow promoted');
    expect(serving.repository.route('churn')).toEqual({ stable: 3 });
    expect(serving.repository.versions('churn')).toEqual([3]);
    expect((await infer('after-promotion', 0)).model_version).toBe('3');
  });

  it('blue-green: switches all traffic at once with zero failed requests, keeps the old version warm, and a rollback returns to it with no load', async () => {
    let running = true;
    let seq = 0;
    const failures: unknown[] = [];
    let switched = false;
    const afterSwitch: string[] = [];
    const workers = Array.from({ length: 6 }, async () => {
      while (running) {
        try {
          const sentAfter = switched;
          const { model_version } = await infer(`bg-${seq++}`, seq);
          if (sentAfter) afterSwitch.push(model_version);
        } catch (error) {
          failures.push(error);
        }
      }
    });
    const done = await deploy(4, models.logregV1, 'blue-green');
    switched = true;
    await waitFor(() => (afterSwitch.length > 100 ? true : undefined), 'traffic after the switch');
    running = false;
    await Promise.all(workers);
    expect(failures).toEqual([]);
    expect(done.data).toMatchObject({ status: 'serving', trafficShare: 1, strategy: 'blue-green' });
    expect(afterSwitch.every((v) => v === '4')).toBe(true);
    expect(serving.repository.route('churn')).toEqual({ stable: 4 });
    // The old version stays loaded (warm) beside the new one.
    expect(serving.repository.versions('churn')).toEqual([3, 4]);

    const load = vi.spyOn(serving.repository, 'load');
    await rolledBack({ model: 'churn', version: 4, restoredVersion: 3, reason: 'bad blue' });
    await waitFor(() => (serving.repository.route('churn')?.stable === 3 ? true : undefined), 'the rollback applied');
    expect(load).not.toHaveBeenCalled();
    load.mockRestore();
    expect((await infer('after-rollback', 0)).model_version).toBe('3');
    await waitFor(() => (serving.repository.versions('churn').includes(4) ? undefined : true), 'the rolled-back version unloaded');
    expect(lines.some((l) => l.includes('blue-green standby version 3 takes all traffic at once (kept warm, no load)'))).toBe(true);
  });

  it('an A/B deployment splits traffic as a canary does, and reports its strategy and labels for the monitor', async () => {
    const done = await deploy(5, models.logregV2, 'ab', { canaryShare: 0.5, abLabels: 300 });
    expect(done.data).toMatchObject({ status: 'serving', trafficShare: 0.5, strategy: 'ab', abLabels: 300 });
    expect(serving.repository.route('churn')).toEqual({ stable: 3, canary: { version: 5, share: 0.5 } });
    const versions = new Set<string>();
    for (let i = 0; i < 40; i++) versions.add((await infer(`ab-${i}`, i)).model_version);
    expect(versions).toEqual(new Set(['3', '5']));
  });

  describe('warm-up validation (deployment.requested validation): the latency bound held before any traffic', () => {
    let dir: string;
    let holdoutUri: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'serving-holdout-'));
      holdoutUri = join(dir, 'holdout.npy');
      writeFileSync(holdoutUri, encodeHoldoutNpy(models.expected.logreg_v1.rows, 30));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('a bound no run can meet: rejected with the measured p99, unloaded and never routed; requests keep their versions', async () => {
      const before = serving.repository.route('churn');
      const done = await deploy(6, models.logregV2, 'full', { validation: { latencyP99Ms: 0.000001, holdoutUri } });
      expect(done.data).toMatchObject({ status: 'rejected', trafficShare: 0, strategy: 'full' });
      const [check] = done.data.checks!;
      expect(check).toMatchObject({ name: 'latency', passed: false, bound: 0.000001 });
      expect(check.measured).toBeGreaterThan(0.000001);
      expect(check.detail).toBe(`p99 ${check.measured} ms > bound 0.000001 ms (${Math.min(models.expected.logreg_v1.rows.length, 200)} holdout rows, one per request, after 5 untimed)`);
      expect(done.data.error).toBe(`latency ${check.detail}`);
      expect(serving.repository.route('churn')).toEqual(before);
      expect(serving.repository.versions('churn')).not.toContain(6);
      const answered = new Set<string>();
      for (let i = 0; i < 20; i++) answered.add((await infer(`after-rejection-${i}`, i)).model_version);
      expect(answered).toEqual(new Set(['3', '5']));
      expect(lines).toContain(`deployment of 'churn' version 6 rejected by its warm-up check, unloaded and never routed: latency ${check.detail}`);
    });

    it('a bound without a holdout to time is not waived: rejected, saying there is none', async () => {
      const done = await deploy(7, models.logregV2, 'canary', { canaryShare: 0.2, validation: { latencyP99Ms: 10_000 } });
      expect(done.data).toMatchObject({ status: 'rejected', trafficShare: 0, checks: [{ name: 'latency', passed: false, measured: null, bound: 10_000 }] });
      expect(done.data.checks![0].detail).toMatch(/^no holdout rows to time/);
      expect(serving.repository.versions('churn')).not.toContain(7);
    });

    it('a generous bound passes: the version is routed as its strategy says and the check reports the measured p99', async () => {
      const done = await deploy(8, models.logregV1, 'full', { validation: { latencyP99Ms: 10_000, holdoutUri } });
      expect(done.data).toMatchObject({ status: 'serving', trafficShare: 1, checks: [{ name: 'latency', passed: true, bound: 10_000 }] });
      const { measured } = done.data.checks![0];
      expect(measured).toBeGreaterThan(0);
      expect(measured).toBeLessThanOrEqual(10_000);
      expect(serving.repository.route('churn')).toEqual({ stable: 8 });
      expect((await infer('after-validation', 0)).model_version).toBe('8');
    });

    it('a redeploy of the version that serves is not re-checked: even under a bound no run can meet it keeps all traffic', async () => {
      const before = completed.filter((e) => e.data.version === 8).length;
      await observer.publish(
        createEvent('deployment.requested', {
          source: 'registry',
          subject: 'churn',
          data: { model: 'churn', version: 8, artifactUri: `file://${models.logregV1}`, strategy: 'full', validation: { latencyP99Ms: 0.000001, holdoutUri } },
        }),
      );
      const done = await waitFor(() => completed.filter((e) => e.data.version === 8)[before], 'the second deployment.completed for version 8');
      expect(done.data).toMatchObject({ status: 'serving', trafficShare: 1 });
      expect(done.data.checks).toBeUndefined();
      expect(lines).toContain(`model 'churn' version 8 already serves here: its warm-up check is not repeated`);
      expect(serving.repository.route('churn')).toEqual({ stable: 8 });
      expect((await infer('after-redeploy', 0)).model_version).toBe('8');
    });
  });
});
