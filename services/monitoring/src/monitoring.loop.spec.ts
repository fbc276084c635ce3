import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { EventBus, InProcessTransport, type Subscription } from '@mlops/bus';
import { createEvent, decodeEvent, encodePredictionTensors, type AnyEvent, type EventEnvelope, type EventType } from '@mlops/contracts';
import { waitFor } from '../../../test/support/wait-for';
import { startMonitoring, type MonitoringApp } from './monitoring.app';
import { loadMonitoringConfig } from './monitoring.config';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = (r: Response): Promise<any> => r.json();

const HASH = 'a'.repeat(64);
/** The model of Harness.settled()'s marker events; no test deploys it. */
const SENTINEL = 'sentinel';

/** A materialized dataset as the feature store writes it: an Arrow IPC file. */
function writeDataset(dir: string, name: string, rows: number): string {
  const a = Float64Array.from({ length: rows }, (_, i) => Math.sin(i) * 2);
  const b = Float64Array.from({ length: rows }, (_, i) => (i % 7) + 0.5);
  const label = Float64Array.from({ length: rows }, (_, i) => i % 2);
  const uri = join(dir, `${name}.arrow`);
  writeFileSync(uri, tableToIPC(tableFromArrays({ a, b, label }), 'file'));
  return uri;
}

/**
 * A request's predictions as serving logs them (prediction.logged v2): inputs FP32 [rows,2]
 * named a, b (the training dataset's features, as the trainer's ONNX metadata names them; none
 * for a model registered from outside), label INT64, probabilities FP32 [rows,2].
 */
function tensorEvent(model: string, version: number, rows: { id: string; inputs: number[]; predicted: number }[], featureNames: string[] | null = ['a', 'b'], shadow = false): AnyEvent {
  return createEvent('prediction.logged', {
    source: 'serving',
    subject: model,
    data: encodePredictionTensors({
      model,
      version,
      shadow,
      latencyMs: 1,
      predictionIds: rows.map((r) => r.id),
      rows: rows.map((_, i) => i),
      inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, 2], data: Float32Array.from(rows.flatMap((r) => r.inputs)), featureNames: featureNames ?? undefined }],
      outputs: [
        { name: 'label', datatype: 'INT64', shape: [rows.length], data: BigInt64Array.from(rows.map((r) => BigInt(r.predicted))) },
        { name: 'probabilities', datatype: 'FP32', shape: [rows.length, 2], data: Float32Array.from(rows.flatMap((r) => [1 - r.predicted, r.predicted])) },
      ],
    }),
  }) as AnyEvent;
}

/** A monitor on one SQLite file and one in-process log; restartable like a process. */
class Harness {
  monitor!: MonitoringApp;
  readonly transport = new InProcessTransport();
  readonly producer = new EventBus(this.transport);
  readonly seen: AnyEvent[] = [];
  private observer?: Subscription;
  private sent = 0;

  constructor(
    readonly file: string,
    readonly env: Record<string, string> = {},
  ) {}

  async start(): Promise<void> {
    this.monitor = await startMonitoring(
      loadMonitoringConfig({
        DATABASE_URL: `sqlite:${this.file}`,
        MONITORING_PORT: '0',
        MONITORING_WINDOW_SIZE: '1000',
        MONITORING_CANARY_MIN_PREDICTIONS: '100',
        MONITORING_CANARY_MIN_LABELS: '50',
        MONITORING_PERFORMANCE_MIN_LABELS: '50',
        MONITORING_REFERENCE_ROWS: '500',
        ...this.env,
      }),
      { inProcess: this.transport, logger: false, defaultMetrics: false },
    );
    // closing a service closes the shared in-process transport's subscriptions: the
    // observer subscribes again, and its group continues where it was
    this.observer = await this.producer.subscribe({
      group: 'observer',
      topics: ['canary.evaluated', 'performance.degraded'],
      handle: async (m) => void this.seen.push(decodeEvent(m.value)),
    });
  }

  async restart(): Promise<void> {
    await this.monitor.close();
    await this.start();
  }

  async stop(): Promise<void> {
    await this.observer?.stop();
    await this.monitor.close();
  }

  of<T extends EventType>(type: T): EventEnvelope<T>[] {
    return this.seen.filter((e) => e.type === type) as unknown as EventEnvelope<T>[];
  }

  publish(events: AnyEvent | AnyEvent[]) {
    return this.producer.publish(events);
  }

  async lineage(model: string, version: number, uri: string, metrics: Record<string, number> = { accuracy: 0.9 }) {
    const datasetId = `${model}-ds-${version}`;
    const runId = `${model}-run-${version}`;
    await this.publish([
      createEvent('dataset.materialized', {
        source: 'feature-store',
        subject: 'fv',
        data: { datasetId, version, hash: HASH, featureView: 'fv', uri, rowCount: 3000, schema: [{ name: 'a', type: 'number' }, { name: 'b', type: 'number' }] },
      }) as AnyEvent,
      createEvent('training.completed', {
        source: 'trainer',
        subject: model,
        data: { jobId: `job-${version}`, model, runId, datasetId, artifactUri: 'file:///m.onnx', metrics, params: { features: 'a,b' } },
      }) as AnyEvent,
      createEvent('model.registered', { source: 'registry', subject: model, data: { model, version, runId, artifactHash: HASH } }) as AnyEvent,
    ]);
  }

  deployed(model: string, version: number, trafficShare: number, correlationId?: string, strategy?: 'shadow') {
    const event = createEvent('deployment.completed', {
      source: 'serving',
      subject: model,
      correlationId,
      data: { model, version, status: 'serving', trafficShare, ...(strategy ? { strategy } : {}) },
    });
    return this.publish(event as AnyEvent).then(() => event);
  }

  promoted(model: string, version: number) {
    return this.publish(createEvent('model.promoted', { source: 'registry', subject: model, data: { model, version, alias: 'champion' } }) as AnyEvent);
  }

  /**
   * Binary predictions of a version: `correct` of them predict the label they will get. As
   * v1 events (one per row) or v2 (serving's: one per request of `perRequest` rows, tensors).
   */
  async predictAndLabel(model: string, version: number, n: number, { correct = n, labelled = n, format = 'v1', perRequest = 10 } = {}): Promise<void> {
    const ids: { id: string; truth: number }[] = [];
    const rows = Array.from({ length: n }, (_, i) => {
      const id = `${model}-${version}-${this.sent++}`;
      const truth = i % 2;
      const predicted = i < correct ? truth : 1 - truth;
      ids.push({ id, truth });
      return { id, inputs: [i / n, 1], predicted };
    });
    const predictions =
      format === 'v2'
        ? Array.from({ length: Math.ceil(n / perRequest) }, (_, r) => tensorEvent(model, version, rows.slice(r * perRequest, (r + 1) * perRequest)))
        : rows.map(({ id, inputs, predicted }) =>
            createEvent('prediction.logged', {
              source: 'serving',
              subject: model,
              data: { predictionId: id, model, version, inputs: { a: inputs[0], b: inputs[1] }, outputs: { label: predicted, probabilities: [1 - predicted, predicted] }, latencyMs: 1 },
            }) as AnyEvent,
          );
    await this.publish(predictions);
    await waitFor(async () => {
      const values = (await this.monitor.metrics.predictions.get()).values;
      return values.some((v) => v.labels.model === model && v.labels.version === String(version) && v.value >= n);
    }, `${n} predictions of ${model} v${version}`);
    const before = await this.labelCount(model, version);
    await this.publish(
      ids.slice(0, labelled).map(({ id, truth }) => createEvent('label.observed', { source: 'labels', subject: model, data: { predictionId: id, model, label: truth } }) as AnyEvent),
    );
    await waitFor(async () => (await this.labelCount(model, version)) >= before + labelled, `${labelled} labels of ${model} v${version}`);
  }

  /**
   * Resolves once the monitor has handled everything published before it on prediction.logged
   * and label.observed, with what that decided (outbox published, counters set): a prediction
   * and its label of a model no test uses come after them on the same topics (one log each,
   * handled in order by one group) and are seen counted.
   */
  async settled(): Promise<void> {
    const counted = async (counter: 'predictions' | 'labels') =>
      (await this.monitor.metrics[counter].get()).values.find((v) => v.labels.model === SENTINEL)?.value ?? 0;
    const id = `${SENTINEL}-${this.sent++}`;
    const predictions = await counted('predictions');
    await this.publish(
      createEvent('prediction.logged', {
        source: 'serving',
        subject: SENTINEL,
        data: { predictionId: id, model: SENTINEL, version: 1, inputs: { 'input[0]': 0 }, outputs: { label: 1, probabilities: [0, 1] }, latencyMs: 1 },
      }) as AnyEvent,
    );
    await waitFor(async () => (await counted('predictions')) > predictions, 'the sentinel prediction');
    const labels = await counted('labels');
    await this.publish(createEvent('label.observed', { source: 'labels', subject: SENTINEL, data: { predictionId: id, model: SENTINEL, label: 1 } }) as AnyEvent);
    await waitFor(async () => (await counted('labels')) > labels, 'the sentinel label');
  }

  /** canary.evaluated this monitor decided for `model` since it started (mlops_monitoring_canary_verdicts_total). */
  async verdicts(model: string): Promise<number> {
    return (await this.monitor.metrics.canaryVerdicts.get()).values.filter((v) => v.labels.model === model).reduce((sum, v) => sum + v.value, 0);
  }

  /** performance.degraded this monitor published for `model` since it started. */
  async degraded(model: string): Promise<number> {
    return (await this.monitor.metrics.performanceDegraded.get()).values.filter((v) => v.labels.model === model).reduce((sum, v) => sum + v.value, 0);
  }

  async labelCount(model: string, version: number): Promise<number> {
    return (await fetch(`${this.monitor.url}/models/${model}/versions/${version}/performance`).then(json)).labels;
  }

  status(model: string) {
    return fetch(`${this.monitor.url}/models/${model}/status`).then(json);
  }
}

describe('monitoring loop (embedded: in-process bus, SQLite file)', { timeout: 30_000 }, () => {
  let dir: string;
  let uri: string;
  let h: Harness;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'monitoring-loop-'));
    uri = writeDataset(dir, 'train', 3000);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    await h?.stop();
  });

  /** v1 deployed and promoted (champion), v2 deployed as a canary: returns v2's deployment event. */
  async function championAndCanary(model: string) {
    await h.lineage(model, 1, uri);
    await h.deployed(model, 1, 0.1);
    await h.promoted(model, 1);
    await h.lineage(model, 2, uri);
    await waitFor(async () => (await h.status(model)).champion === 1, 'champion v1');
    const deployment = await h.deployed(model, 2, 0.1, `loop-${model}`);
    await waitFor(async () => (await h.status(model)).canary?.version === 2, 'canary v2');
    return deployment;
  }

  it('sets a deployed version\'s reference from its training dataset (events only), 500 rows evenly spread, keyed by feature name', async () => {
    h = new Harness(join(dir, 'refs.db'));
    await h.start();
    await h.lineage('refs', 1, uri);
    await h.deployed('refs', 1, 1);
    const reference = await waitFor(async () => {
      const r = await fetch(`${h.monitor.url}/models/refs/versions/1/reference`);
      return r.ok ? json(r) : undefined;
    }, 'the reference of refs v1');
    expect(reference).toMatchObject({ referenceRows: 500, referenceSource: 'training-dataset', tests: { a: { method: 'ks' }, b: { method: 'ks' } } });
    expect(Object.keys(reference.tests)).toEqual(['a', 'b']);
    const status = await h.status('refs');
    expect(status).toMatchObject({ champion: null, canary: null, versions: [{ version: 1, reference: { status: 'ready', source: 'training-dataset', datasetId: 'refs-ds-1' } }] });
  });

  it('waits for lineage that arrives after the deployment; reports an unreadable dataset without crashing', async () => {
    h = new Harness(join(dir, 'late.db'));
    await h.start();
    await h.deployed('late', 1, 1);
    await waitFor(async () => (await h.status('late')).versions[0]?.reference.status === 'waiting-for-lineage', 'waiting');
    expect((await h.status('late')).versions[0].reference.problem).toMatch(/model.registered for late v1/);
    await h.lineage('late', 1, uri);
    await waitFor(async () => (await h.status('late')).versions[0]?.reference.status === 'ready', 'ready after lineage');

    await h.lineage('broken', 1, join(dir, 'missing.arrow'));
    await h.deployed('broken', 1, 1);
    await waitFor(async () => (await h.status('broken')).versions[0]?.reference.status === 'unavailable', 'unavailable');
    const overall = await fetch(`${h.monitor.url}/status`).then(json);
    expect(overall.referenceProblems).toEqual([
      expect.objectContaining({ model: 'broken', version: 1, status: 'unavailable', problem: expect.stringMatching(/missing\.arrow is not readable/) }),
    ]);
    expect((await fetch(`${h.monitor.url}/health/ready`)).ok).toBe(true);
  });

  it('does not watch the first version of a model (no champion) as a canary', async () => {
    h = new Harness(join(dir, 'first.db'));
    await h.start();
    await h.lineage('first', 1, uri);
    await h.deployed('first', 1, 0.1);
    await h.predictAndLabel('first', 1, 120);
    await h.settled();
    const status = await h.status('first');
    expect(status.canary).toBeNull();
    expect(await h.verdicts('first')).toBe(0);
  });

  it('promotes a canary as good as the champion, once, with the deployment\'s correlation id', async () => {
    h = new Harness(join(dir, 'promote.db'));
    await h.start();
    const deployment = await championAndCanary('good');
    await h.predictAndLabel('good', 1, 80, { correct: 72 }); // champion 0.9
    await h.predictAndLabel('good', 2, 60, { correct: 54 }); // canary 0.9 so far, no verdict yet (60 < 100)
    await h.settled();
    expect(await h.verdicts('good')).toBe(0);
    await h.predictAndLabel('good', 2, 40, { correct: 36, labelled: 0 });
    const [verdict] = await waitFor(() => (h.of('canary.evaluated').length ? h.of('canary.evaluated') : undefined), 'canary.evaluated');
    expect(verdict.correlationId).toBe(deployment.correlationId);
    expect(verdict.data).toMatchObject({
      model: 'good',
      version: 2,
      championVersion: 1,
      verdict: 'promote',
      predictions: 100,
      labels: 60,
      metric: 'accuracy',
      canaryValue: 0.9,
      championValue: 0.9,
    });
    await h.predictAndLabel('good', 2, 150);
    await h.settled();
    expect(await h.verdicts('good')).toBe(1);
    // after model.promoted for the canary the canary state ends, and v2 is the champion
    await h.promoted('good', 2);
    await waitFor(async () => (await h.status('good')).champion === 2, 'champion v2');
    const status = await h.status('good');
    expect(status.canary).toBeNull();
    expect(status.canaries).toEqual([expect.objectContaining({ version: 2, status: 'ended', endedReason: 'promoted to champion', verdict: expect.objectContaining({ verdict: 'promote' }) })]);
  });

  it('reads prediction.logged v2 (a request\'s tensors) and v1 side by side: every row in the drift window, labels joined by prediction id', async () => {
    h = new Harness(join(dir, 'formats.db'));
    await h.start();
    await h.lineage('formats', 1, uri);
    await h.deployed('formats', 1, 1);
    await waitFor(async () => (await fetch(`${h.monitor.url}/models/formats/versions/1/reference`)).ok, 'the reference of formats v1');
    await h.predictAndLabel('formats', 1, 95, { correct: 76, format: 'v2', perRequest: 10 }); // 10 events, the last of 5 rows
    await h.predictAndLabel('formats', 1, 5, { correct: 4 });
    const performance = await fetch(`${h.monitor.url}/models/formats/versions/1/performance`).then(json);
    expect(performance).toMatchObject({ labels: 100, metrics: { accuracy: 0.8 } });
    expect(await fetch(`${h.monitor.url}/models/formats/versions/1/reference`).then(json)).toMatchObject({ pending: 100 });
  });

  it('dead-letters a v2 event whose tensors do not decode, with the reason, and goes on with the next', async () => {
    h = new Harness(join(dir, 'dlq.db'));
    await h.start();
    const dead: { error?: string; id?: string }[] = [];
    const dlq = await h.producer.subscribe({
      group: 'dlq-observer',
      topics: ['prediction.logged.dlq'],
      fromBeginning: true,
      handle: async (m) => void dead.push({ error: m.headers['dlq-error'], id: m.headers['event-id'] }),
    });
    const bad = tensorEvent('dlq', 1, [{ id: 'dlq-bad', inputs: [0.5, 1], predicted: 1 }]);
    if (bad.type !== 'prediction.logged' || bad.data.schemaVersion !== 2) throw new Error('v2 expected');
    // The right length for its 8 bytes (so it passes the contract's size check), but not base64.
    bad.data.inputs[0].data = `${'!'.repeat(11)}=`;
    await h.publish(bad);
    await h.predictAndLabel('dlq', 1, 4, { format: 'v2', perRequest: 2 });
    const [letter] = await waitFor(() => (dead.length ? dead : undefined), 'the dead letter');
    await dlq.stop();
    expect(letter).toEqual({ id: bad.id, error: 'prediction.logged tensors do not decode: data.inputs.0.data: not base64 (characters outside the alphabet)' });
    expect(await h.labelCount('dlq', 1)).toBe(4);
  });

  it('decides a canary logged as v2 events, counting each row as a prediction', async () => {
    h = new Harness(join(dir, 'rollback-v2.db'));
    await h.start();
    await championAndCanary('badv2');
    await h.predictAndLabel('badv2', 1, 60, { correct: 54, format: 'v2' }); // 0.9
    await h.predictAndLabel('badv2', 2, 60, { correct: 42, format: 'v2' }); // 0.7
    await h.predictAndLabel('badv2', 2, 40, { labelled: 0, format: 'v2' });
    const [verdict] = await waitFor(() => (h.of('canary.evaluated').length ? h.of('canary.evaluated') : undefined), 'canary.evaluated');
    expect(verdict.data).toMatchObject({ verdict: 'rollback', metric: 'accuracy', canaryValue: 0.7, championValue: 0.9, labels: 60, predictions: 100 });
  });

  it('rolls back a canary worse than the champion by more than the tolerance, naming both values', async () => {
    h = new Harness(join(dir, 'rollback.db'));
    await h.start();
    await championAndCanary('bad');
    await h.predictAndLabel('bad', 1, 60, { correct: 54 }); // 0.9
    await h.predictAndLabel('bad', 2, 60, { correct: 42 }); // 0.7
    await h.predictAndLabel('bad', 2, 40, { labelled: 0 });
    const [verdict] = await waitFor(() => (h.of('canary.evaluated').length ? h.of('canary.evaluated') : undefined), 'canary.evaluated');
    expect(verdict.data).toMatchObject({ verdict: 'rollback', metric: 'accuracy', canaryValue: 0.7, championValue: 0.9, labels: 60, predictions: 100 });
    expect(verdict.data.reason).toMatch(/canary accuracy 0\.7 is worse than champion v1 0\.9 by 0\.2 \(tolerance 0\.05\)/);
  });

  it('judges a shadow on the labels of the requests it copied and on its agreement with the champion; its answers count in no performance', async () => {
    h = new Harness(join(dir, 'shadow.db'));
    await h.start();
    await h.lineage('shadowed', 1, uri);
    await h.deployed('shadowed', 1, 1);
    await h.promoted('shadowed', 1);
    await waitFor(async () => (await h.status('shadowed')).champion === 1, 'champion v1');
    await h.lineage('shadowed', 2, uri);
    await h.deployed('shadowed', 2, 0, 'loop-shadow', 'shadow');
    await waitFor(async () => (await h.status('shadowed')).canary?.version === 2, 'shadow v2 watched');
    // The same 100 requests answered by the champion (the first 10 wrong) and copied to the shadow (the first 40 wrong).
    const requests = Array.from({ length: 100 }, (_, i) => ({ id: `shadowed-req-${i}:0`, truth: i % 2, inputs: [i / 100, 1] }));
    const answers = (wrong: number) => requests.map((r, i) => ({ id: r.id, inputs: r.inputs, predicted: i < wrong ? 1 - r.truth : r.truth }));
    const perRequest = (rows: ReturnType<typeof answers>, shadow: boolean) => rows.map((row) => tensorEvent('shadowed', shadow ? 2 : 1, [row], ['a', 'b'], shadow));
    await h.publish([...perRequest(answers(10), false), ...perRequest(answers(40), true)]);
    await h.settled();
    await h.publish(requests.map((r) => createEvent('label.observed', { source: 'labels', subject: 'shadowed', data: { predictionId: r.id, model: 'shadowed', label: r.truth } }) as AnyEvent));
    const [verdict] = await waitFor(() => (h.of('canary.evaluated').length ? h.of('canary.evaluated') : undefined), 'canary.evaluated');
    // Both wrong on 10, both right on 60: they agree on 70 of 100 requests. Decided on the first 50 labels of each (MIN_LABELS).
    expect(verdict.data).toMatchObject({ verdict: 'rollback', strategy: 'shadow', agreement: { compared: 100, share: 0.7 }, canaryValue: 0.2, championValue: 0.8, labels: 50, predictions: 100 });
    expect(verdict.data.reason).toMatch(/^shadow accuracy 0\.2 is worse than champion v1 0\.8 .*shadow agreed with the champion on 70% of 100 requests$/);
    expect(verdict.correlationId).toBe('loop-shadow');
    expect(await h.labelCount('shadowed', 1)).toBe(100);
    expect(await h.labelCount('shadowed', 2)).toBe(0);
  });

  it('decides an A/B test by a two-proportion z-test once each side has the labels the deployment asked for, with no minimum of predictions', async () => {
    h = new Harness(join(dir, 'ab.db'));
    await h.start();
    await h.lineage('split', 1, uri);
    await h.deployed('split', 1, 1);
    await h.promoted('split', 1);
    await waitFor(async () => (await h.status('split')).champion === 1, 'champion v1');
    await h.lineage('split', 2, uri);
    await h.publish(
      createEvent('deployment.completed', { source: 'serving', subject: 'split', correlationId: 'loop-ab', data: { model: 'split', version: 2, status: 'serving', trafficShare: 0.5, strategy: 'ab', abLabels: 60 } }) as AnyEvent,
    );
    await waitFor(async () => (await h.status('split')).canary?.version === 2, 'A/B test of v2 watched');
    await h.predictAndLabel('split', 1, 60, { correct: 36 }); // 0.6
    await h.predictAndLabel('split', 2, 59, { correct: 57 });
    await h.settled();
    expect(await h.verdicts('split')).toBe(0);
    await h.predictAndLabel('split', 2, 1, { correct: 0 }); // the 60th label: 57 of 60 right, 0.95
    const [verdict] = await waitFor(() => (h.of('canary.evaluated').length ? h.of('canary.evaluated') : undefined), 'canary.evaluated');
    expect(verdict.data).toMatchObject({ verdict: 'promote', strategy: 'ab', metric: 'accuracy', canaryValue: 0.95, championValue: 0.6, labels: 60, predictions: 60 });
    expect(verdict.data.pValue!).toBeLessThan(0.05);
    expect(verdict.data.reason).toMatch(/^challenger accuracy 0\.95 vs champion v1 0\.6: better on 60 and 60 labels: z = /);
    expect(verdict.correlationId).toBe('loop-ab');
  });

  it('compares canary and champion on the same traffic: champion predictions from before the canary do not count', async () => {
    h = new Harness(join(dir, 'same-period.db'));
    await h.start();
    await h.lineage('period', 1, uri);
    await h.deployed('period', 1, 0.1);
    await h.promoted('period', 1);
    await waitFor(async () => (await h.status('period')).champion === 1, 'champion v1');
    // 60 champion predictions, all right, made before the canary; their labels come while it runs
    await h.predictAndLabel('period', 1, 60, { labelled: 0 });
    await h.lineage('period', 2, uri);
    await h.deployed('period', 2, 0.1, 'loop-period');
    await waitFor(async () => (await h.status('period')).canary?.version === 2, 'canary v2');
    await h.publish(
      Array.from({ length: 60 }, (_, i) => createEvent('label.observed', { source: 'labels', subject: 'period', data: { predictionId: `period-1-${i}`, model: 'period', label: i % 2 } }) as AnyEvent),
    );
    await waitFor(async () => (await h.labelCount('period', 1)) >= 60, 'the late labels of the earlier champion predictions');
    // on the traffic since the canary started: champion 0.7, canary 0.8
    await h.predictAndLabel('period', 1, 60, { correct: 42 });
    await h.predictAndLabel('period', 2, 60, { correct: 48 });
    await h.predictAndLabel('period', 2, 40, { labelled: 0 });
    const [verdict] = await waitFor(() => (h.of('canary.evaluated').length ? h.of('canary.evaluated') : undefined), 'canary.evaluated');
    expect(verdict.data).toMatchObject({ verdict: 'promote', metric: 'accuracy', canaryValue: 0.8, championValue: 0.7 });
  });

  it('with its predictions in but labels still on their way, waits for them and decides on them', async () => {
    h = new Harness(join(dir, 'late-labels.db'));
    await h.start();
    await championAndCanary('patient');
    await h.predictAndLabel('patient', 1, 60, { correct: 54 }); // champion 0.9
    await h.predictAndLabel('patient', 2, 120, { labelled: 0 }); // predictions past the minimum, no labels yet
    await h.settled();
    expect(await h.verdicts('patient')).toBe(0);
    expect((await h.status('patient')).canary).toMatchObject({ version: 2, status: 'watching' });
    await h.predictAndLabel('patient', 2, 60, { correct: 36 }); // the late labels: canary 0.6
    const [verdict] = await waitFor(() => (h.of('canary.evaluated').length ? h.of('canary.evaluated') : undefined), 'canary.evaluated');
    // decided as soon as both sides had their 50 labels, on those labels
    expect(verdict.data).toMatchObject({ verdict: 'rollback', labels: 50, championValue: 0.9, metric: 'accuracy' });
    expect(verdict.data.canaryValue).toBeLessThan(0.85);
  });

  it('promotes on predictions alone when labels are too few, and says so', async () => {
    h = new Harness(join(dir, 'unlabelled.db'), { MONITORING_CANARY_LABEL_WAIT_S: '0' });
    await h.start();
    await championAndCanary('quiet');
    await h.predictAndLabel('quiet', 2, 90, { correct: 0, labelled: 10 });
    await h.predictAndLabel('quiet', 2, 10, { labelled: 0 });
    const [verdict] = await waitFor(() => (h.of('canary.evaluated').length ? h.of('canary.evaluated') : undefined), 'canary.evaluated');
    expect(verdict.data).toMatchObject({ verdict: 'promote', labels: 10, predictions: 100 });
    expect(verdict.data.metric).toBeUndefined();
    expect(verdict.data.reason).toMatch(/promoted on predictions alone: 100 predictions, labels 10 \(canary\) and 0 \(champion v1\) of the 50 each needed/);
  });

  it('keeps canary state, labels and references across a restart (SQLite file), and decides once', async () => {
    h = new Harness(join(dir, 'restart.db'), { MONITORING_STATE_FLUSH_MS: '0' });
    await h.start();
    await championAndCanary('durable');
    await h.predictAndLabel('durable', 1, 60, { correct: 57 }); // 0.95
    await h.predictAndLabel('durable', 2, 60, { correct: 36 }); // 0.6
    await h.restart();
    const before = await h.status('durable');
    expect(before).toMatchObject({ champion: 1, canary: { version: 2, status: 'watching', predictions: 60, labels: { canary: 60, champion: 60 } } });
    expect(before.versions.map((v: { reference: { status: string } }) => v.reference.status)).toEqual(['ready', 'ready']);
    expect((await fetch(`${h.monitor.url}/models/durable/versions/2/reference`)).status).toBe(200);
    // the labels joined before the restart decide the verdict after it
    await h.predictAndLabel('durable', 2, 40, { labelled: 0 });
    const [verdict] = await waitFor(() => (h.of('canary.evaluated').length ? h.of('canary.evaluated') : undefined), 'canary.evaluated');
    expect(verdict.data).toMatchObject({ verdict: 'rollback', predictions: 100, labels: 60, canaryValue: 0.6, championValue: 0.95 });
    await h.restart();
    await h.predictAndLabel('durable', 2, 120, { labelled: 0 });
    await h.settled();
    // counters start at 0 with the process: the restarted monitor decided nothing again
    expect(await h.verdicts('durable')).toBe(0);
    expect((await h.status('durable')).canary).toMatchObject({ status: 'evaluated', verdict: { verdict: 'rollback' } });
  });

  it('publishes performance.degraded below the training baseline, once per cooldown, and exposes performance', async () => {
    h = new Harness(join(dir, 'perf.db'));
    await h.start();
    await h.lineage('perf', 1, uri, { accuracy: 0.95 });
    await h.deployed('perf', 1, 1);
    await h.predictAndLabel('perf', 1, 100, { correct: 80 });
    const [degraded] = await waitFor(() => (h.of('performance.degraded').length ? h.of('performance.degraded') : undefined), 'performance.degraded');
    expect(degraded.data).toMatchObject({ model: 'perf', version: 1, metric: 'accuracy', baseline: 0.95 });
    expect(degraded.data.threshold).toBeCloseTo(0.9, 12);
    expect(degraded.data.value).toBeLessThan(0.9);
    await h.predictAndLabel('perf', 1, 100, { correct: 50 });
    await h.settled();
    expect(await h.degraded('perf')).toBe(1);
    const performance = await fetch(`${h.monitor.url}/models/perf/versions/1/performance`).then(json);
    expect(performance).toMatchObject({ kind: 'classification', labels: 200, metrics: { accuracy: 0.65 }, baseline: { metric: 'accuracy', value: 0.95, source: 'training' } });
    expect(performance.metrics.roc_auc).toBeCloseTo(0.65, 10);
    const scrape = await fetch(`${h.monitor.url}/metrics`).then((r) => r.text());
    expect(scrape).toMatch(/mlops_monitoring_performance\{model="perf",version="1",metric="accuracy"\} 0\.65/);
    expect(scrape).toMatch(/mlops_monitoring_labels_total\{model="perf",version="1"\} 200/);
    expect(scrape).toMatch(/mlops_monitoring_performance_degraded_total\{model="perf",metric="accuracy"\} 1/);
  });

  it('joins a label that arrives before its prediction, once the prediction comes', async () => {
    h = new Harness(join(dir, 'early.db'));
    await h.start();
    await h.publish(createEvent('label.observed', { source: 'labels', subject: 'early', data: { predictionId: 'early-1-0', label: 1 } }) as AnyEvent);
    await waitFor(async () => (await fetch(`${h.monitor.url}/status`).then(json)).labels.waitingForPrediction === 1, 'the label waiting');
    expect(await h.labelCount('early', 1)).toBe(0);
    await h.predictAndLabel('early', 1, 1, { labelled: 0 });
    await waitFor(async () => (await h.labelCount('early', 1)) === 1, 'the early label joined');
    expect((await fetch(`${h.monitor.url}/status`).then(json)).labels).toMatchObject({ waitingForPrediction: 0, unmatched: 0 });
  });

  it('counts labels without a waiting prediction as unmatched, and a redelivered label once', async () => {
    h = new Harness(join(dir, 'labels.db'), { MONITORING_LABEL_PENDING_MAX: '10', MONITORING_LABEL_EARLY_WAIT_S: '0' });
    await h.start();
    await h.predictAndLabel('lbl', 1, 10);
    await h.publish(createEvent('label.observed', { source: 'labels', subject: 'lbl', data: { predictionId: 'never-logged', label: 1 } }) as AnyEvent);
    await h.predictAndLabel('lbl', 1, 20, { labelled: 0 }); // evicts 10 of the waiting ones
    const status = await waitFor(async () => {
      const s = await fetch(`${h.monitor.url}/status`).then(json);
      return s.labels.unmatched >= 1 ? s : undefined;
    }, 'unmatched label');
    expect(status.labels).toEqual({ pendingPredictions: 10, evictedUnlabelled: 10, unmatched: 1, waitingForPrediction: 0 });
    expect(await h.labelCount('lbl', 1)).toBe(10);
    // the same label event delivered twice while its prediction still waits: counted once
    const waiting = `lbl-1-${10 + 19}`;
    const label = createEvent('label.observed', { source: 'labels', subject: 'lbl', data: { predictionId: waiting, label: 0 } });
    await Promise.all([h.monitor.loop.onLabel(label), h.monitor.loop.onLabel(label)]);
    expect(await h.labelCount('lbl', 1)).toBe(11);
  });

  it('applies a batch of labels in one transaction, and a redelivered batch (also after a restart) once', async () => {
    h = new Harness(join(dir, 'batch.db'));
    await h.start();
    const ids = Array.from({ length: 30 }, (_, i) => `dup-${i}`);
    const predictions = ids.map(
      (predictionId, i) =>
        createEvent('prediction.logged', {
          source: 'serving',
          subject: 'dup',
          data: { predictionId, model: 'dup', version: 1, inputs: { x: i }, outputs: { label: i % 3 === 0 ? 1 : 0 }, latencyMs: 1 },
        }) as AnyEvent,
    );
    const labels = ids.map((predictionId, i) => createEvent('label.observed', { source: 'labels', subject: 'dup', data: { predictionId, model: 'dup', label: i % 2 } }));
    const pending = async () => (await fetch(`${h.monitor.url}/status`).then(json)).labels.pendingPredictions;
    await h.publish(predictions);
    await waitFor(async () => (await pending()) === 30, '30 predictions waiting for labels');
    // all three batches join before the first is stored: the store alone keeps them apart
    await Promise.all([h.monitor.loop.onLabels(labels.slice(0, 20)), h.monitor.loop.onLabels(labels.slice(0, 20)), h.monitor.loop.onLabels(labels.slice(10, 30))]);
    const performance = await fetch(`${h.monitor.url}/models/dup/versions/1/performance`).then(json);
    const correct = ids.filter((_, i) => (i % 3 === 0 ? 1 : 0) === i % 2).length;
    expect(performance).toMatchObject({ labels: 30, metrics: { accuracy: correct / 30 } });
    const scrape = await fetch(`${h.monitor.url}/metrics`).then((r) => r.text());
    expect(scrape).toMatch(/mlops_monitoring_labels_total\{model="dup",version="1"\} 30\n/);

    // after a restart the same predictions are waiting again and the same labels come back
    // through the consumer (as Kafka redelivers what was not committed): counted once
    await h.restart();
    await h.publish(predictions);
    await waitFor(async () => (await pending()) === 30, 'the predictions waiting again');
    await h.publish(labels as AnyEvent[]);
    await waitFor(async () => (await pending()) === 0, 'the redelivered labels joined');
    expect(await h.labelCount('dup', 1)).toBe(30);
    expect((await fetch(`${h.monitor.url}/status`).then(json)).labels).toMatchObject({ unmatched: 0, waitingForPrediction: 0 });
  });

  it('names drift evidence and metric labels by the features the events carry; a model registered without names keeps input[i]', async () => {
    h = new Harness(join(dir, 'names.db'), { MONITORING_WINDOW_SIZE: '100' });
    await h.start();
    const drifts: EventEnvelope<'drift.detected'>[] = [];
    const watch = await h.producer.subscribe({ group: 'drift-names', topics: ['drift.detected'], handle: async (m) => void drifts.push(decodeEvent(m.value) as EventEnvelope<'drift.detected'>) });
    // Trained by the platform: the reference from its training dataset, keyed a, b, the names serving logs.
    await h.lineage('named', 1, uri);
    await h.deployed('named', 1, 1);
    await waitFor(async () => (await fetch(`${h.monitor.url}/models/named/versions/1/reference`)).ok, 'the reference of named v1');
    // Registered from outside: no names; a reference set by hand with the positional keys its rows have.
    const reference = Array.from({ length: 300 }, (_, i) => ({ 'input[0]': Math.sin(i) * 2, 'input[1]': (i % 7) + 0.5 }));
    const put = await fetch(`${h.monitor.url}/models/outside/versions/1/reference`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rows: reference }) });
    expect(put.status).toBe(200);
    const shifted = (prefix: string) => Array.from({ length: 100 }, (_, i) => ({ id: `${prefix}-${i}`, inputs: [5 + Math.sin(i), 20 + (i % 7)], predicted: 1 }));
    await h.publish([tensorEvent('named', 1, shifted('named')), tensorEvent('outside', 1, shifted('outside'), null)]);
    await waitFor(() => drifts.length === 2, 'a drift.detected per model');
    await watch.stop();
    const evidence = (model: string) => drifts.find((d) => d.data.model === model)!.data.features.map((f) => `${f.feature} ${f.statistic} drifted=${f.drifted}`);
    expect(evidence('named')).toEqual(['a ks drifted=true', 'b ks drifted=true']);
    expect(evidence('outside')).toEqual(['input[0] ks drifted=true', 'input[1] ks drifted=true']);
    const scrape = await fetch(`${h.monitor.url}/metrics`).then((r) => r.text());
    expect(scrape).toContain('mlops_monitoring_feature_drifted{model="named",version="1",feature="a"} 1');
    expect(scrape).toContain('mlops_monitoring_feature_drifted{model="outside",version="1",feature="input[0]"} 1');
    expect(scrape).not.toMatch(/model="named"[^}]*feature="input\[/);
  });

  it('keeps an HTTP reference and the drift cooldown across a restart', async () => {
    h = new Harness(join(dir, 'drift.db'), { MONITORING_WINDOW_SIZE: '100', MONITORING_COOLDOWN_S: '300' });
    await h.start();
    const rows = Array.from({ length: 500 }, (_, i) => ({ x: Math.sin(i * 12.9898) }));
    const put = await fetch(`${h.monitor.url}/models/drifty/versions/1/reference`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rows }),
    });
    expect(put.status).toBe(200);
    const shifted = (n: number, offset: number) =>
      Array.from({ length: n }, (_, i) =>
        createEvent('prediction.logged', {
          source: 'serving',
          subject: 'drifty',
          data: { predictionId: `d${offset + i}`, model: 'drifty', version: 1, inputs: { x: 3 + Math.sin((offset + i) * 7.1) }, outputs: {}, latencyMs: 1 },
        }) as AnyEvent,
      );
    const drifts: AnyEvent[] = [];
    const watch = await h.producer.subscribe({ group: 'drift-watch', topics: ['drift.detected'], handle: async (m) => void drifts.push(decodeEvent(m.value)) });
    await h.publish(shifted(100, 0));
    await waitFor(() => drifts.length === 1, 'the first drift.detected');
    await watch.stop();
    await h.restart();
    const again = await h.producer.subscribe({ group: 'drift-watch', topics: ['drift.detected'], handle: async (m) => void drifts.push(decodeEvent(m.value)) });
    expect((await fetch(`${h.monitor.url}/models/drifty/versions/1/reference`).then(json)).referenceSource).toBe('http');
    await h.publish(shifted(100, 100));
    await waitFor(() => h.monitor.service.drift('drifty'), 'a window after the restart');
    expect(h.monitor.service.drift('drifty')).toMatchObject({ published: false, suppressedByCooldown: true });
    expect(drifts).toHaveLength(1);
    await again.stop();
  });
});
