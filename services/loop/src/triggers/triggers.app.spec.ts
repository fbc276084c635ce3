import { createEvent, type AnyEvent } from '@mlops/contracts';
import { waitFor } from '../../../../test/support/wait-for';
import type { LoopDetail, LoopSummary } from '../loop.service';
import { LoopHarness } from '../test/loop-harness';
import { LoopScheduler } from './loop-scheduler';
import type { ModelTriggers } from './triggers.service';

// Monday 2026-01-05 03:00 UTC
const MONDAY_3AM = Date.UTC(2026, 0, 5, 3, 0, 0);

describe('retrain triggers per model (in-process bus, SQLite file, real HTTP)', () => {
  let h: LoopHarness;
  let clock = MONDAY_3AM - 3_600_000;
  const call = (method: string, path: string, body?: unknown) => h.call(method, path, body);
  const loopsOf = async (model: string) => (await call('GET', `/api/loops?model=${model}`)).body.loops as LoopSummary[];
  const tick = () => h.loop.app.get(LoopScheduler).tick();

  beforeAll(async () => {
    h = await LoopHarness.start(
      'loop-triggers',
      {
        LOOP_FEATURE_VIEWS: 'churn:churn_features,fraud:tx_features,weekly:weekly_features,fresh:fresh_features',
        LOOP_VIEW_SOURCES: 'fresh_features:fresh_src',
        LOOP_COOLDOWN_S: '60',
        LOOP_SWEEP_INTERVAL_MS: '3600000',
        LOOP_SCHEDULE_TICK_MS: '3600000',
        LOOP_SCHEDULE_CATCH_UP_S: '600',
        INSTANCE_ID: 'unit-a',
      },
      { now: () => clock },
    );
  });
  afterAll(() => h?.close());

  it('a model without triggers of its own gets the defaults: drift and performance on, no schedule, no new data', async () => {
    const { status, body } = await call('GET', '/api/triggers/churn');
    expect(status).toBe(200);
    expect(body.trigger).toMatchObject({ model: 'churn', drift: true, performance: true, schedule: null, newData: null, configured: false });
  });

  it('PUT sets all of a model\'s triggers, GET and the list show them; bad input is a 400 naming the field and changes nothing', async () => {
    const put = await call('PUT', '/api/triggers/fraud', { drift: false, performance: true, schedule: '0 3 * * 1', newData: null });
    expect(put.status).toBe(200);
    expect(put.body.trigger).toMatchObject({ model: 'fraud', drift: false, schedule: '0 3 * * 1', configured: true, nextScheduledAt: new Date(MONDAY_3AM).toISOString() });

    const badCron = await call('PUT', '/api/triggers/fraud', { drift: true, performance: true, schedule: 'every monday', newData: null });
    expect(badCron.status).toBe(400);
    expect(badCron.body.message).toMatch(/^schedule: "every monday" is not valid: expected a cron expression of 5 fields/);
    const badRows = await call('PUT', '/api/triggers/fraud', { drift: 'yes', performance: true, schedule: null, newData: { rows: 0 } });
    expect(badRows.status).toBe(400);
    expect(badRows.body.message).toMatch(/drift: expected true or false/);
    expect(badRows.body.message).toMatch(/newData\.rows: expected at least 1 row/);

    expect((await call('GET', '/api/triggers/fraud')).body.trigger).toMatchObject({ drift: false, schedule: '0 3 * * 1' });
    const list = (await call('GET', '/api/triggers')).body as { defaults: unknown; triggers: ModelTriggers[] };
    expect(list.defaults).toEqual({ drift: true, performance: true, schedule: null, newData: null });
    expect(list.triggers.map((t) => t.model)).toEqual(['fraud']);
  });

  it('drift with the drift trigger off opens nothing; performance.degraded opens a loop that records its trigger', async () => {
    const cid = 'perf-1';
    const drift = createEvent('drift.detected', {
      source: 'test',
      subject: 'fraud',
      correlationId: 'drift-off',
      time: new Date(clock),
      data: {
        model: 'fraud',
        version: 1,
        window: { start: new Date(clock - 1000).toISOString(), end: new Date(clock).toISOString(), size: 100 },
        datasetDrift: { share: 1, threshold: 0.5 },
        features: [{ feature: 'f0', statistic: 'ks', value: 0.4, threshold: 0.05, drifted: true }],
      },
    });
    const degraded = createEvent('performance.degraded', {
      source: 'test',
      subject: 'fraud',
      correlationId: cid,
      time: new Date(clock),
      data: { model: 'fraud', version: 1, metric: 'accuracy', value: 0.71, baseline: 0.9, threshold: 0.05 },
    });
    await h.bus.publish(drift);
    await h.bus.publish(degraded);
    const retrain = await waitFor(() => h.retrains.find((r) => r.correlationId === cid), 'retrain.requested of the performance loop');
    expect(retrain.data).toMatchObject({ model: 'fraud', featureView: 'tx_features', triggeredBy: degraded.id });
    expect(retrain.data.reason).toMatch(/accuracy 0\.710 against a baseline of 0\.900/);
    // Events of one key are handled in order: the drift before the performance event.
    expect(await loopsOf('fraud')).toMatchObject([{ correlationId: cid, trigger: 'performance', driftVersion: 1 }]);
    expect((await call('GET', '/api/loops/drift-off')).status).toBe(404);
  });

  it('a manual run opens a loop now (trigger manual); while a loop of the model is open it is refused (FailedPrecondition: 400) and recorded as ignored', async () => {
    const run = await call('POST', '/api/triggers/churn/run', { reason: 'new labels from the call centre' });
    expect(run.status).toBe(201);
    const loop = run.body.loop as LoopSummary;
    expect(loop).toMatchObject({ model: 'churn', trigger: 'manual', status: 'open', featureView: 'churn_features' });
    const retrain = await waitFor(() => h.retrains.find((r) => r.correlationId === loop.correlationId), 'retrain.requested of the manual loop');
    expect(retrain.data.reason).toBe('requested by hand: new labels from the call centre');

    const again = await call('POST', '/api/triggers/churn/run', {});
    expect(again.status).toBe(400);
    expect(again.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(again.body.message).toBe(`no loop opened for churn: debounced: loop ${loop.correlationId} of churn is still open`);
    const detail = (await call('GET', `/api/loops/${loop.correlationId}`)).body.loop as LoopDetail;
    expect(detail.stages.map((st) => [st.type, st.ignored])).toEqual([
      ['trigger.manual', false],
      ['retrain.requested', false],
      ['trigger.manual', true],
    ]);
    expect(((await call('GET', '/api/loops?trigger=manual')).body.loops as LoopSummary[]).map((l) => l.correlationId)).toEqual([loop.correlationId]);
    expect((await call('POST', '/api/triggers/churn/run', { reason: 7 })).body.message).toBe('reason: expected a string');
  });

  it('the schedule opens one loop per slot: the same slot on a later tick does nothing; a slot past the catch-up window is skipped', async () => {
    clock = MONDAY_3AM - 3_600_000;
    await call('PUT', '/api/triggers/weekly', { drift: true, performance: true, schedule: '0 3 * * 1', newData: null });
    expect(await tick()).toEqual({ fraud: 'none', weekly: 'none' });

    clock = MONDAY_3AM + 5_000;
    expect(await tick()).toMatchObject({ weekly: 'opened' });
    expect(await tick()).toMatchObject({ weekly: 'none' });
    const [opened] = await loopsOf('weekly');
    expect(opened).toMatchObject({ trigger: 'schedule', status: 'open', featureView: 'weekly_features', driftVersion: null });
    await waitFor(() => h.retrains.find((r) => r.correlationId === opened!.correlationId), 'retrain.requested of the scheduled loop');
    const detail = (await call('GET', `/api/loops/${opened!.correlationId}`)).body.loop as LoopDetail;
    expect(detail.stages[0]).toMatchObject({ type: 'trigger.schedule', facts: { schedule: '0 3 * * 1', slot: new Date(MONDAY_3AM).toISOString(), instance: 'unit-a' } });

    // A week later, 20 minutes late (the window is 10 minutes): skipped, no loop.
    clock = MONDAY_3AM + 7 * 86_400_000 + 20 * 60_000;
    expect(await tick()).toMatchObject({ weekly: 'skipped' });
    expect(await tick()).toMatchObject({ weekly: 'none' });
    expect(await loopsOf('weekly')).toHaveLength(1);
  });

  it('a due slot while the model\'s loop is open is claimed and recorded as ignored in that loop (debounce applies to every trigger)', async () => {
    const [open] = await loopsOf('weekly');
    clock = MONDAY_3AM + 14 * 86_400_000 + 1_000;
    expect(await tick()).toMatchObject({ weekly: 'ignored' });
    const detail = (await call('GET', `/api/loops/${open!.correlationId}`)).body.loop as LoopDetail;
    expect(detail.stages.at(-1)).toMatchObject({ type: 'trigger.schedule', ignored: true, note: `debounced: loop ${open!.correlationId} of weekly is still open` });
    expect(await tick()).toMatchObject({ weekly: 'none' });
  });

  it('new data: N validated rows of the view\'s source open a loop, not N-1; a training dataset restarts the count', async () => {
    await call('PUT', '/api/triggers/fresh', { drift: true, performance: true, schedule: null, newData: { rows: 5 } });
    const row = (i: number, source = 'fresh_src') =>
      createEvent('data.validated', { source: 'test', subject: source, data: { source, recordId: `r${i}`, contractVersion: 1, record: { x: i } } }) as AnyEvent;
    const counted = async () => ((await call('GET', '/api/triggers/fresh')).body.trigger as ModelTriggers).newDataCounted;

    await h.bus.publish([row(1), row(2), row(3, 'other_src'), row(4)]);
    await waitFor(async () => (await counted()) === 3, '3 rows counted');
    const materialized = createEvent('dataset.materialized', {
      source: 'test',
      subject: 'fresh',
      data: { datasetId: 'fresh-ds', version: 1, hash: 'a'.repeat(64), featureView: 'fresh_features', model: 'fresh', uri: '/tmp/x', rowCount: 3, schema: [] },
    });
    await h.bus.publish(materialized);
    await waitFor(async () => (await counted()) === 0, 'the count restarted by the training dataset');

    const four = [5, 6, 7, 8].map((i) => row(i));
    await h.bus.publish(four);
    await waitFor(async () => (await counted()) === 4, '4 rows counted');
    // The same events again (a redelivery) are not counted twice: the loop opens at the 5th row, as the reason's count says.
    await h.bus.publish(four);
    await h.bus.publish(row(9, 'other_src'));
    const marker = createEvent('data.validated', { source: 'test', subject: 'fresh_src', data: { source: 'fresh_src', recordId: 'r10', contractVersion: 1, record: {} } });
    await h.bus.publish(marker as AnyEvent);
    const [opened] = await waitFor(async () => {
      const loops = await loopsOf('fresh');
      return loops.length > 0 ? loops : undefined;
    }, 'the new-data loop');
    expect(opened).toMatchObject({ trigger: 'new_data', featureView: 'fresh_features', status: 'open' });
    expect(await counted()).toBe(0);
    const retrain = await waitFor(() => h.retrains.find((r) => r.correlationId === opened!.correlationId), 'retrain.requested of the new-data loop');
    expect(retrain.data.reason).toMatch(/^5 new validated rows of fresh_src since the last training dataset/);
  });
});
