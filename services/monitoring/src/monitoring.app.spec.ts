import { EventBus, InProcessTransport, type Subscription } from '@mlops/bus';
import { ConfigError } from '@mlops/config';
import { createEvent, decodeEvent, type EventEnvelope } from '@mlops/contracts';
import { normal, rng } from '../../../test/support/random';
import { waitFor } from '../../../test/support/wait-for';
import { startMonitoring, type MonitoringApp } from './monitoring.app';
import { loadMonitoringConfig } from './monitoring.config';

/** Inputs of a model: x, color shift when `shifted`; y, flag never do. */
function inputs(n: number, seed: number, shifted = false) {
  const r = rng(seed);
  const z = normal(r);
  return Array.from({ length: n }, () => ({
    x: z() + (shifted ? 1 : 0),
    y: 3 + 2 * z(),
    color: r() < (shifted ? 0.6 : 0.2) ? 'red' : r() < 0.5 ? 'green' : 'blue',
    flag: r() < 0.5,
  }));
}

const WINDOW = 200;

describe('monitoring service (embedded: in-process bus)', () => {
  let transport: InProcessTransport;
  let monitoring: MonitoringApp;
  let producer: EventBus;
  let subscription: Subscription;
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const drifts: EventEnvelope<'drift.detected'>[] = [];
  let sent = 0;

  const http = (path: string, init: { method?: string; body?: unknown } = {}) =>
    fetch(`${monitoring.url}${path}`, {
      method: init.method ?? 'GET',
      headers: { 'content-type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    }).then(async (r) => ({ status: r.status, text: await r.text() }))
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      .then(({ status, text }) => ({ status, text, body: (text.startsWith('{') ? JSON.parse(text) : undefined) as any }));

  const windows = () => monitoring.metrics.windows.get().then((m) => m.values.reduce((s, v) => s + v.value, 0));

  async function stream(model: string, rows: ReturnType<typeof inputs>, version = 1) {
    const before = await windows();
    await producer.publish(
      rows.map((row) =>
        createEvent('prediction.logged', {
          source: 'serving',
          subject: model,
          data: { predictionId: `p${sent++}`, model, version, inputs: row, outputs: { score: 0.5 }, latencyMs: 1 },
        }),
      ),
    );
    const expected = before + Math.floor(rows.length / WINDOW);
    await waitFor(async () => (await windows()) >= expected, `${expected} evaluated windows`);
  }

  const counted = (counter: 'predictions' | 'driftEvents', labels: Record<string, string>) =>
    monitoring.metrics[counter]
      .get()
      .then((m) => m.values.filter((v) => Object.entries(labels).every(([k, value]) => (v.labels as Record<string, unknown>)[k] === value)).reduce((s, v) => s + v.value, 0));

  /**
   * Resolves once the monitor has handled every prediction.logged published before, with what
   * it decided (drift.detected published, counters set): a prediction of a model no test uses
   * comes after them in the same log, handled in order by the same group, and is seen counted.
   */
  async function settled() {
    const before = await counted('predictions', { model: 'sentinel' });
    await producer.publish(
      createEvent('prediction.logged', {
        source: 'serving',
        subject: 'sentinel',
        data: { predictionId: `p${sent++}`, model: 'sentinel', version: 1, inputs: { x: 0 }, outputs: {}, latencyMs: 1 },
      }),
    );
    await waitFor(async () => (await counted('predictions', { model: 'sentinel' })) > before, 'the sentinel prediction');
  }

  beforeAll(async () => {
    transport = new InProcessTransport();
    monitoring = await startMonitoring(
      loadMonitoringConfig({ DATABASE_URL: 'sqlite::memory:', MONITORING_PORT: '0', MONITORING_WINDOW_SIZE: String(WINDOW), MONITORING_COOLDOWN_S: '300' }),
      { inProcess: transport, logger: false, now: () => clock, defaultMetrics: false },
    );
    producer = new EventBus(transport);
    subscription = await producer.subscribe({
      group: 'observer',
      topics: ['drift.detected'],
      handle: async (m) => void drifts.push(decodeEvent(m.value) as EventEnvelope<'drift.detected'>),
    });
    const put = await http('/models/churn/versions/1/reference', { method: 'PUT', body: { rows: inputs(1000, 1) } });
    expect(put.status).toBe(200);
  });
  afterAll(async () => {
    await subscription.stop();
    await monitoring.close();
  });

  it('chooses the Evidently defaults for a 1,000-row reference', async () => {
    const ref = await http('/models/churn/versions/1/reference');
    expect(ref.body).toMatchObject({
      referenceRows: 1000,
      windowSize: WINDOW,
      tests: {
        x: { method: 'ks', threshold: 0.05 },
        y: { method: 'ks', threshold: 0.05 },
        color: { method: 'chisquare', threshold: 0.05 },
        flag: { method: 'z', threshold: 0.05 },
      },
    });
  });

  it('publishes nothing for a stream without shift', async () => {
    await stream('churn', inputs(3 * WINDOW, 2));
    await settled();
    expect(await counted('driftEvents', { model: 'churn' })).toBe(0);
    expect(drifts).toEqual([]);
    const last = await http('/models/churn/drift');
    expect(last.body).toMatchObject({ model: 'churn', version: 1, published: false, report: { rows: WINDOW } });
    expect(last.body.report.datasetDrift.drifted).toBe(false);
  });

  it('publishes exactly one drift.detected for a shifted stream (cooldown), flagging the shifted features', async () => {
    await stream('churn', inputs(3 * WINDOW, 3, true));
    await waitFor(() => drifts.length >= 1, 'drift.detected');
    await settled();
    expect(await counted('driftEvents', { model: 'churn' })).toBe(1);
    expect(drifts).toHaveLength(1);
    const [event] = drifts;
    expect(event.subject).toBe('churn');
    expect(event.data).toMatchObject({ model: 'churn', version: 1, datasetDrift: { share: 0.5, threshold: 0.5 } });
    expect(event.data.window.size).toBe(WINDOW);
    expect(event.data.features.filter((f) => f.drifted).map((f) => f.feature).sort()).toEqual(['color', 'x']);
    expect(event.data.features.find((f) => f.feature === 'x')).toMatchObject({ statistic: 'ks', threshold: 0.05 });
    const last = await http('/models/churn/drift');
    expect(last.body).toMatchObject({ published: false, suppressedByCooldown: true });
  });

  it('publishes again for drift that persists after the cooldown', async () => {
    clock += 301_000;
    await stream('churn', inputs(WINDOW, 4, true));
    await waitFor(() => drifts.length === 2, 'the second drift.detected');
  });

  it('exposes drift scores, predictions and windows on /metrics', async () => {
    const scrape = await http('/metrics');
    expect(scrape.status).toBe(200);
    expect(scrape.text).toMatch(/mlops_monitoring_predictions_total\{model="churn",version="1"\} 1400/);
    expect(scrape.text).toMatch(/mlops_monitoring_windows_total\{model="churn",version="1",dataset_drift="true"\} 4/);
    expect(scrape.text).toMatch(/mlops_monitoring_drift_score\{model="churn",version="1",feature="x",statistic="ks"\} /);
    expect(scrape.text).toMatch(/mlops_monitoring_drift_events_total\{model="churn"\} 2/);
  });

  it('keeps every evaluated window: each feature\'s statistic against its threshold over time, newest first, a page at a time', async () => {
    // churn v1 so far: 3 windows without shift, then 4 shifted ones.
    await waitFor(async () => (await http('/models/churn/drift/history?version=1')).body.windows.length === 7, 'the 7 windows of churn v1 stored');
    const first = await http('/models/churn/drift/history?version=1&feature=x&limit=4');
    expect(first.status).toBe(200);
    expect(first.body.windows).toHaveLength(4);
    expect(first.body.windows.map((w: { datasetDrift: { drifted: boolean } }) => w.datasetDrift.drifted)).toEqual([true, true, true, true]);
    for (const w of first.body.windows) {
      expect(w).toMatchObject({ version: 1, window: { size: WINDOW } });
      expect(w.features).toEqual([{ feature: 'x', statistic: 'ks', value: expect.any(Number), threshold: 0.05, drifted: true }]);
      expect(w.features[0].value).toBeLessThan(0.05);
    }
    const second = await http(`/models/churn/drift/history?version=1&feature=x&limit=4&page_token=${first.body.next_page_token}`);
    expect(second.body.windows.map((w: { datasetDrift: { drifted: boolean } }) => w.datasetDrift.drifted)).toEqual([false, false, false]);
    expect(second.body.next_page_token).toBeUndefined();
    const times = [...first.body.windows, ...second.body.windows].map((w: { window: { end: string } }) => w.window.end);
    expect([...times].sort().reverse()).toEqual(times);
    const all = await http('/models/churn/drift/history?limit=1');
    expect(all.body.windows[0].features.map((f: { feature: string }) => f.feature).sort()).toEqual(['color', 'flag', 'x', 'y']);
    const bad = await http('/models/churn/drift/history?limit=0&page_token=abc');
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/limit.*page_token|page_token.*limit/s);
  });

  it('accepts column arrays and per-feature overrides; a large reference uses distances', async () => {
    const rows = inputs(2000, 5);
    const columns = { x: rows.map((r) => r.x), color: rows.map((r) => r.color) };
    const put = await http('/models/fraud/versions/3/reference', {
      method: 'PUT',
      body: { columns, features: { color: { method: 'psi', threshold: 0.2 } } },
    });
    expect(put.body.tests).toEqual({ x: { method: 'wasserstein', threshold: 0.1 }, color: { method: 'psi', threshold: 0.2 } });
  });

  it('learns nothing and publishes nothing for a version without a reference', async () => {
    await producer.publish(
      createEvent('prediction.logged', {
        source: 'serving',
        subject: 'churn',
        data: { predictionId: 'x', model: 'churn', version: 9, inputs: { x: 1 }, outputs: {}, latencyMs: 1 },
      }),
    );
    const drifted = await counted('driftEvents', { model: 'churn' });
    await settled();
    expect(await counted('predictions', { model: 'churn', version: '9' })).toBe(1);
    expect((await http('/models/churn/versions/9/reference')).status).toBe(404);
    expect(await counted('driftEvents', { model: 'churn' })).toBe(drifted);
  });

  it('answers bad requests and unknown models with error codes', async () => {
    expect((await http('/models/nope/drift')).body).toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST', message: expect.stringContaining('GET /monitoring/models/nope/drift/history') });
    const both = await http('/models/m/versions/1/reference', { method: 'PUT', body: { rows: [{ a: 1 }], columns: { a: [1] } } });
    expect(both).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE' } });
    const badMethod = await http('/models/m/versions/1/reference', { method: 'PUT', body: { rows: [{ a: 'x' }], features: { a: { method: 'ks' } } } });
    expect(badMethod.status).toBe(400);
    expect(badMethod.body.message).toMatch(/numeric/);
    expect((await http('/models/m/versions/zero/reference', { method: 'PUT', body: { rows: [{ a: 1 }] } })).status).toBe(400);
  });
});

describe('monitoring: reference learned from the first predictions', () => {
  it('learns the reference from the first N predictions, then monitors', async () => {
    const transport = new InProcessTransport();
    const monitoring = await startMonitoring(
      loadMonitoringConfig({ DATABASE_URL: 'sqlite::memory:', MONITORING_PORT: '0', MONITORING_WINDOW_SIZE: '100', MONITORING_REFERENCE_FROM_FIRST: '300' }),
      { inProcess: transport, logger: false, defaultMetrics: false },
    );
    try {
      const bus = new EventBus(transport);
      const rows = [...inputs(300, 11), ...inputs(100, 12, true)];
      await bus.publish(
        rows.map((row, i) =>
          createEvent('prediction.logged', {
            source: 'serving',
            subject: 'm',
            data: { predictionId: `q${i}`, model: 'm', version: 1, inputs: row, outputs: {}, latencyMs: 1 },
          }),
        ),
      );
      const result = await waitFor(() => monitoring.service.drift('m'), 'the first window');
      expect(monitoring.service.reference('m', 1)).toMatchObject({ referenceRows: 300, referenceSource: 'first-predictions' });
      expect(result.report.features.filter((f) => f.drifted).map((f) => f.feature).sort()).toEqual(['color', 'x']);
    } finally {
      await monitoring.close();
    }
  });
});

describe('monitoring: the drift history keeps MONITORING_DRIFT_HISTORY_WINDOWS windows per version', () => {
  it('keeps the newest 2 of 5 windows', async () => {
    const transport = new InProcessTransport();
    const monitoring = await startMonitoring(
      loadMonitoringConfig({ DATABASE_URL: 'sqlite::memory:', MONITORING_PORT: '0', MONITORING_WINDOW_SIZE: '100', MONITORING_REFERENCE_FROM_FIRST: '100', MONITORING_DRIFT_HISTORY_WINDOWS: '2' }),
      { inProcess: transport, logger: false, defaultMetrics: false },
    );
    try {
      // One event a row, row i at second i: a window ends at its last row's time.
      const at = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
      const rows = inputs(600, 13);
      await new EventBus(transport).publish(
        rows.map((row, i) => ({
          ...createEvent('prediction.logged', { source: 'serving', subject: 'h', data: { predictionId: `h${i}`, model: 'h', version: 1, inputs: row, outputs: {}, latencyMs: 1 } }),
          time: at(i),
        })),
      );
      const ends = async () =>
        ((await (await fetch(`${monitoring.url}/models/h/drift/history`)).json()) as { windows: { window: { end: string } }[] }).windows.map((w) => w.window.end);
      // The reference is rows 0-99; windows end at rows 199, 299, 399, 499, 599.
      await waitFor(async () => (await ends()).join() === [at(599), at(499)].join() || undefined, 'the newest two windows, and only those');
    } finally {
      await monitoring.close();
    }
  });
});

describe('monitoring config', () => {
  it('starts with an empty environment', () => {
    expect(loadMonitoringConfig({})).toMatchObject({
      BUS: 'in-process',
      MONITORING_PORT: 3007,
      MONITORING_WINDOW_SIZE: 500,
      MONITORING_COOLDOWN_S: 300,
      MONITORING_DATASET_DRIFT_SHARE: 0.5,
      MONITORING_REFERENCE_FROM_FIRST: 0,
      DATABASE_URL: 'sqlite:.mlops/monitoring.db',
      MONITORING_TABLE_PREFIX: 'monitoring',
      MONITORING_REFERENCE_ROWS: 10_000,
      MONITORING_LABEL_PENDING_MAX: 100_000,
      MONITORING_LABEL_TTL_S: 86_400,
      MONITORING_CLASSIFICATION_METRIC: 'accuracy',
      MONITORING_REGRESSION_METRIC: 'rmse',
      MONITORING_PERFORMANCE_TOLERANCE: 0.05,
      MONITORING_PERFORMANCE_MIN_LABELS: 50,
      MONITORING_CANARY_MIN_PREDICTIONS: 100,
      MONITORING_CANARY_MIN_LABELS: 50,
      MONITORING_CANARY_TOLERANCE: 0.05,
      MONITORING_CANARY_CONFIDENCE: 0.95,
      MONITORING_AUC_BINS: 1000,
    });
  });

  it('names each bad variable', () => {
    let error: unknown;
    try {
      loadMonitoringConfig({ MONITORING_WINDOW_SIZE: '0', MONITORING_COOLDOWN_S: '-1', MONITORING_TABLE_PREFIX: 'Bad-Prefix', MONITORING_CANARY_CONFIDENCE: '1' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable).sort()).toEqual(['MONITORING_CANARY_CONFIDENCE', 'MONITORING_COOLDOWN_S', 'MONITORING_TABLE_PREFIX', 'MONITORING_WINDOW_SIZE']);
  });
});
