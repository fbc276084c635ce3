import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cron } from 'croner';
import { createEventBus, InProcessTransport, KafkaAdminKit, observeKafka, startGroupsAtEnd, type EventBus, type KafkaKitOptions, type Subscription } from '@mlops/bus';
import { createEvent, EVENT_TYPES, type AnyEvent } from '@mlops/contracts';
import { infraEnv } from '../../../../test/infra/infra-env';
import { freePort, ServiceProcess } from '../../../../test/support/service-process';
import { waitFor } from '../../../../test/support/wait-for';
import { startLoop, type LoopApp } from '../loop.app';
import { LOOP_EVENT_TYPES } from '../loop.names';
import { loadLoopConfig } from '../loop.config';
import type { LoopSummary } from '../loop.service';
import { LoopScheduler, type SlotOutcome } from './loop-scheduler';
import type { ModelTriggers } from './triggers.service';

const infra = infraEnv();
const kafka: KafkaKitOptions = { clientId: 'loop-triggers-it', brokers: infra.KAFKA_BROKERS.split(','), logLevel: 'nothing' };
const run = randomUUID().slice(0, 8);
const OFF = { drift: true, performance: true, schedule: null, newData: null };

async function call(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/**
 * The schedule and new-data triggers as production runs them: two loop controllers, each its
 * own process from the built entry point, on real Kafka and Postgres (one database, one
 * consumer group), one of them restarted.
 */
describe('retrain triggers on real Kafka and Postgres (two loop processes, production entry point)', () => {
  const scheduled = `sched-it-${run}`;
  const fresh = `fresh-it-${run}`;
    const group = `loop-triggers-it-${randomUUID()}`;
  // Every 4 seconds: 6 fields, seconds first.
  const EVERY_4S = '*/4 * * * * *';
  const retrains: AnyEvent[] = [];
  const services: ServiceProcess[] = [];
  const urls: string[] = [];
  const envs: Record<string, string>[] = [];
  let observer: Subscription;
  let producer: EventBus;

  const slotOf = (e: AnyEvent) => (e.type === 'retrain.requested' ? (e.data.triggeredBy ?? '').replace(`schedule:${scheduled}:`, '') : '');
  const scheduledRetrains = () => retrains.filter((e) => e.type === 'retrain.requested' && e.data.model === scheduled);
  const startService = async (i: number) => {
    services[i] = new ServiceProcess('loop', envs[i]!);
    services[i].start();
    await services[i].waitUntilReady(`${urls[i]}/health/ready`);
  };
  const triggersOf = async (model: string) => (await call(urls[0]!, 'GET', `/api/triggers/${model}`)).body.trigger as ModelTriggers;
  const loopsOf = async (model: string) => (await call(urls[0]!, 'GET', `/api/loops?model=${model}`)).body.loops as LoopSummary[];
  const row = (source: string, i: number) =>
    createEvent('data.validated', { source: 'loop-triggers-it', subject: source, data: { source, recordId: `${run}-${i}`, contractVersion: 1, record: { x: i } } }) as AnyEvent;

  beforeAll(async () => {
    const admin = new KafkaAdminKit(kafka);
    await admin.createTopics(EVENT_TYPES).finally(() => admin.close());
    // The run's groups start at the current end, committed before any instance joins: nothing
    // published from now on is skipped, whichever instance gets a partition when.
    await startGroupsAtEnd(kafka, { [group]: [...LOOP_EVENT_TYPES], [`${group}.new-data`]: ['data.validated'] });
    producer = createEventBus({ BUS: 'kafka', KAFKA_BROKERS: kafka.brokers, KAFKA_SSL: false }, { service: 'loop-triggers-it' });
    observer = await observeKafka(kafka, { group: `loop-triggers-it-observer-${randomUUID()}`, topics: ['retrain.requested'], fromBeginning: true }, async (message) => {
      const e = JSON.parse(message.value.toString()) as AnyEvent;
      if (e.type !== 'retrain.requested' || ![scheduled, fresh].includes(e.data.model)) return;
      retrains.push(e);
      // Ends each scheduled loop at once (no trainer runs here), so the next slot can open one.
      if (e.data.model === scheduled) {
        await producer.publish(
          createEvent('training.failed', { source: 'loop-triggers-it', subject: scheduled, correlationId: e.correlationId, data: { jobId: 'none', model: scheduled, error: 'no trainer in this test' } }),
        );
      }
    });

    for (const i of [0, 1]) {
      const port = await freePort();
      urls[i] = `http://127.0.0.1:${port}`;
      envs[i] = {
        BUS: 'kafka',
        KAFKA_BROKERS: infra.KAFKA_BROKERS,
        DATABASE_URL: infra.DATABASE_URL,
        LOOP_PORT: String(port),
        LOOP_GROUP: group,
        LOOP_FEATURE_VIEWS: `${scheduled}:view_s,${fresh}:view_n_${run}`,
        LOOP_VIEW_SOURCES: `view_n_${run}:src_n_${run}`,
        LOOP_COOLDOWN_S: '0',
        LOOP_SCHEDULE_TICK_MS: '200',
        LOOP_SCHEDULE_CATCH_UP_S: '60',
        LOOP_SWEEP_INTERVAL_MS: '500',
        INSTANCE_ID: `loop-${'ab'[i]}-${run}`,
      };
      await startService(i);
    }
  });
  afterAll(async () => {
    // The database is shared: leave no schedule or counter of this run for later loop controllers.
    const up = services.findIndex((sp) => sp?.running);
    if (up >= 0) for (const model of [scheduled, fresh]) await call(urls[up]!, 'PUT', `/api/triggers/${model}`, OFF);
    for (const s of services) await s?.stop();
    await observer?.stop();
    await producer?.close();
  });

  it('a schedule fires once per slot with two loop instances and across a restart of both; a slot missed while down fires at start', async () => {
    const put = await call(urls[0]!, 'PUT', `/api/triggers/${scheduled}`, { drift: true, performance: true, schedule: EVERY_4S, newData: null });
    expect(put.status).toBe(200);
    await waitFor(() => new Set(scheduledRetrains().map(slotOf)).size >= 2, 'retrain.requested of two slots on Kafka', 60_000);
    // No loop of the model open while both are down, so the missed slot opens one.
    await waitFor(async () => (await loopsOf(scheduled)).every((l) => l.status === 'closed'), 'the scheduled loops to end', 30_000);

    await Promise.all(services.map((s) => s.stop()));
    const missed = new Cron(EVERY_4S, { paused: true, timezone: 'UTC' }).nextRun(new Date())!;
    // What fired before the stop (read now: the catch-up at start may be on Kafka soon after).
    const lastSlotBefore = Math.max(...scheduledRetrains().map((e) => Date.parse(slotOf(e))));
    // Both are down at the slot's time.
    await sleep(Math.max(0, missed.getTime() - Date.now()) + 500);
    await Promise.all([startService(0), startService(1)]);

    // The slot due while both were down is claimed at start. A start slower than a slot (a loaded
    // machine) finds a later slot due by then, and catches up that one instead: one missed run
    // is caught up, never several, so the first slot claimed from `missed` on is the one.
    const missedSlot = await waitFor(async () => {
      const claimed = (await triggersOf(scheduled)).recentSlots.filter((s) => Date.parse(s.slot) >= missed.getTime());
      return claimed.sort((a, b) => a.slot.localeCompare(b.slot))[0];
    }, 'a slot missed while down claimed at start', 30_000);
    const caughtUp = new Date(missedSlot.slot);
    // Opened, or ignored if a loop of the model opened just before the stop was still open at start: fired, not skipped.
    expect(['opened', 'ignored']).toContain(missedSlot.decision);
    // Later slots, after the restart, are the marker: a second retrain of an earlier slot would be on Kafka before them.
    await waitFor(() => scheduledRetrains().filter((e) => Date.parse(slotOf(e)) > caughtUp.getTime()).length >= 2, 'two more slots after the restart', 60_000);

    const slots = scheduledRetrains().map(slotOf);
    const latest = slots.reduce((a, b) => (a > b ? a : b));
    const counts = new Map<string, number>();
    for (const s of slots) counts.set(s, (counts.get(s) ?? 0) + 1);
    for (const [slot, count] of counts) if (slot !== latest) expect({ slot, count }).toEqual({ slot, count: 1 });
    expect(counts.get(caughtUp.toISOString()) ?? 0).toBe(missedSlot.decision === 'opened' ? 1 : 0);
    // Slots that passed during a slow start, before the one caught up, never fire.
    expect(slots.filter((slot) => Date.parse(slot) >= missed.getTime() && Date.parse(slot) < caughtUp.getTime())).toEqual([]);
    expect(lastSlotBefore).toBeLessThan(missed.getTime());

    // The instance that did not fire a slot says so (once per slot).
    const said = services.map((sp) => sp.output.join('')).join('\n');
    expect(said).toMatch(new RegExp(`schedule of ${scheduled}: slot \\S+ was taken by instance loop-[ab]-${run} \\((opened|ignored)\\), not fired here`));
    const loops = (await loopsOf(scheduled)).filter((l) => l.trigger === 'schedule');
    expect(new Set(loops.map((l) => l.triggerEventId)).size).toBe(loops.length);
    const opened = (await triggersOf(scheduled)).recentSlots.filter((s) => s.decision === 'opened');
    for (const slot of opened.filter((s) => s.slot !== latest)) expect(loops.filter((l) => l.triggerEventId === `schedule:${scheduled}:${slot.slot}`)).toHaveLength(1);
  });

  it('new data: a loop opens at the Nth validated row of the view\'s source, not before, with the count kept across a restart', async () => {
    const put = await call(urls[0]!, 'PUT', `/api/triggers/${fresh}`, { drift: true, performance: true, schedule: null, newData: { rows: 5 } });
    expect(put.body.trigger).toMatchObject({ newData: { rows: 5 }, newDataCounted: 0 });
    await producer.publish([row(`src_n_${run}`, 1), row(`src_n_${run}`, 2), row('some_other_source', 3), row(`src_n_${run}`, 4), row(`src_n_${run}`, 5)]);
    await waitFor(async () => (await triggersOf(fresh)).newDataCounted === 4, '4 rows of the source counted', 30_000);
    expect(await loopsOf(fresh)).toEqual([]);

    await services[0]!.stop();
    await startService(0);
    expect((await triggersOf(fresh)).newDataCounted).toBe(4);

    await producer.publish(row(`src_n_${run}`, 6));
    const retrain = await waitFor(() => retrains.find((e) => e.type === 'retrain.requested' && e.data.model === fresh), 'retrain.requested of the new-data loop on Kafka', 60_000);
    expect(retrain.type === 'retrain.requested' && retrain.data).toMatchObject({ model: fresh, featureView: `view_n_${run}` });
    expect(retrain.type === 'retrain.requested' && retrain.data.reason).toMatch(new RegExp(`^5 new validated rows of src_n_${run} since the last training dataset`));
    const loops = await loopsOf(fresh);
    expect(loops).toMatchObject([{ trigger: 'new_data', status: 'open', correlationId: retrain.correlationId }]);
    expect((await triggersOf(fresh)).newDataCounted).toBe(0);
  });
});

/**
 * Two loop controllers on one Postgres database claiming the same slots at the same moment
 * (their ticks called together, on one fixed clock): each slot opens exactly one loop.
 */
describe('two loop controllers racing for schedule slots on Postgres', () => {
  const MONDAY_3AM = Date.UTC(2026, 0, 5, 3, 0, 0);
  let clock = MONDAY_3AM - 3_600_000;
  const apps: LoopApp[] = [];
  const models = Array.from({ length: 6 }, (_, i) => `race-it-${run}-${i}`);

  beforeAll(async () => {
    const transport = new InProcessTransport();
    for (const name of ['race-a', 'race-b']) {
      apps.push(
        await startLoop(
          loadLoopConfig({
            BUS: 'in-process',
            DATABASE_URL: infra.DATABASE_URL,
            LOOP_PORT: '0',
            LOOP_FEATURE_VIEWS: models.map((m) => `${m}:view_r`).join(','),
            LOOP_SCHEDULE_TICK_MS: '3600000',
            LOOP_SWEEP_INTERVAL_MS: '3600000',
            LOOP_GROUP: `race-${run}-${name}`,
            INSTANCE_ID: `${name}-${run}`,
          }),
          { inProcess: transport, logger: false, defaultMetrics: false, now: () => clock },
        ),
      );
    }
  });
  afterAll(async () => {
    if (apps[0]) for (const model of models) await call(apps[0].url, 'PUT', `/api/triggers/${model}`, OFF);
    for (const app of apps) await app.close();
  });

  it('each due slot is claimed by one instance and opens one loop; the other finds it taken', async () => {
    for (const model of models) {
      expect((await call(apps[0]!.url, 'PUT', `/api/triggers/${model}`, { drift: true, performance: true, schedule: '0 3 * * 1', newData: null })).status).toBe(200);
    }
    clock = MONDAY_3AM + 1_000;
    const [a, b] = await Promise.all(apps.map((app) => app.app.get(LoopScheduler).tick()));
    for (const model of models) {
      const pair = [a![model], b![model]] as SlotOutcome[];
      expect(pair.filter((o) => o === 'opened')).toHaveLength(1);
      expect(pair.filter((o) => o !== 'opened').every((o) => o === 'taken' || o === 'none')).toBe(true);
      const loops = (await call(apps[1]!.url, 'GET', `/api/loops?model=${model}`)).body.loops as LoopSummary[];
      expect(loops).toMatchObject([{ trigger: 'schedule', triggerEventId: `schedule:${model}:${new Date(MONDAY_3AM).toISOString()}` }]);
      const winner = a![model] === 'opened' ? 'race-a' : 'race-b';
      const slots = ((await call(apps[1]!.url, 'GET', `/api/triggers/${model}`)).body.trigger as ModelTriggers).recentSlots;
      expect(slots).toMatchObject([{ slot: new Date(MONDAY_3AM).toISOString(), decision: 'opened', claimedBy: `${winner}-${run}` }]);
    }
  });
});
