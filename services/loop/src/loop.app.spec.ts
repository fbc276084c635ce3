import { createEvent, type AnyEvent, type EventType, type PayloadInput } from '@mlops/contracts';
import { waitFor } from '../../../test/support/wait-for';
import type { GateDecision } from './gate-lookup';
import type { LoopDetail } from './loop.service';
import { LoopHarness } from './test/loop-harness';

const T0 = Date.UTC(2026, 0, 1);

describe('loop controller (in-process bus, SQLite file, real HTTP)', () => {
  let h: LoopHarness;
  let clock = T0;
  const gateDecisions = new Map<string, GateDecision>();
  const get = (path: string) => h.call('GET', path);
  const detail = async (id: string) => (await get(`/api/loops/${id}`)).body.loop as LoopDetail;
  const at = (seconds: number) => new Date(T0 + seconds * 1000);

  const event = <T extends EventType>(type: T, correlationId: string, seconds: number, data: PayloadInput<T>) =>
    createEvent(type, { source: 'test', subject: (data as { model?: string }).model ?? 'x', correlationId, time: at(seconds), data } as never) as AnyEvent;
  /** A drift event at T0 + seconds; the service clock moves there (the loop stamps its retrain.requested with it). */
  const drift = (model: string, correlationId: string, seconds: number) => {
    clock = Math.max(clock, T0 + seconds * 1000);
    return event('drift.detected', correlationId, seconds, {
      model,
      version: 1,
      window: { start: at(seconds - 1).toISOString(), end: at(seconds).toISOString(), size: 300 },
      datasetDrift: { share: 0.75, threshold: 0.5 },
      features: [
        { feature: 'f0', statistic: 'ks', value: 0.41, threshold: 0.05, drifted: true },
        { feature: 'f1', statistic: 'ks', value: 0.38, threshold: 0.05, drifted: true },
        { feature: 'f7', statistic: 'ks', value: 0.02, threshold: 0.05, drifted: false },
      ],
    });
  };
  /** The events of a loop up to (and including) the registration of `version`. */
  const through = (model: string, cid: string, version: number, from: number): AnyEvent[] => [
    event('dataset.materialized', cid, from + 1, { datasetId: `${model}-ds`, version: 2, hash: 'a'.repeat(64), featureView: 'v', model, uri: '/tmp/x', rowCount: 10, schema: [] }),
    event('training.started', cid, from + 2, { jobId: 'j', model, trainer: 'builtin' }),
    event('training.completed', cid, from + 3, { jobId: 'j', model, runId: 'r', artifactUri: '/tmp/m.onnx', metrics: { accuracy: 0.9 } }),
    event('model.registered', cid, from + 4, { model, version, artifactHash: 'b'.repeat(64) }),
  ];
  const publish = async (events: AnyEvent[], waitForStages: string, count: number) => {
    for (const e of events) await h.bus.publish(e);
    await waitFor(async () => (await detail(waitForStages)).stages.length >= count, `${count} stages in loop ${waitForStages}`, 10_000);
  };

  beforeAll(async () => {
    h = await LoopHarness.start(
      'loop',
      {
        LOOP_FEATURE_VIEWS: 'churn:churn_features,fraud:tx_features,scoring:score_features',
        LOOP_COOLDOWN_S: '60',
        LOOP_GATE_WAIT_S: '30',
        LOOP_STALL_TIMEOUT_S: '3600',
        LOOP_SWEEP_INTERVAL_MS: '3600000',
      },
      { now: () => clock, gate: { decision: async (model, version) => gateDecisions.get(`${model}/${version}`) } },
    );
  });
  afterAll(() => h?.close());

  it('drift.detected opens a loop and requests a retrain in it: feature view from the mapping, the drifted features named', async () => {
    const d = drift('churn', 'loop-a', 0);
    await h.bus.publish(d);
    const retrain = await waitFor(() => h.retrains.find((r) => r.correlationId === 'loop-a'), 'retrain.requested');
    expect(retrain.data).toMatchObject({ model: 'churn', featureView: 'churn_features', triggeredBy: d.id });
    expect(retrain.data.reason).toMatch(/2 of 3 features drifted \(f0 ks=0\.410, f1 ks=0\.380\)/);
    const l = await detail('loop-a');
    expect(l).toMatchObject({ model: 'churn', status: 'open', outcome: null, driftVersion: 1, driftedFeatures: ['f0', 'f1'], featureView: 'churn_features' });
  });

  it('debounce: drift while the loop is open is recorded as ignored and requests nothing; a redelivered drift is applied once', async () => {
    const again = drift('churn', 'loop-a2', 5);
    await h.bus.publish(again);
    await waitFor(async () => (await detail('loop-a')).stages.some((s) => s.eventId === again.id), 'the ignored drift as a stage of loop-a');
    const ignored = (await detail('loop-a')).stages.find((s) => s.eventId === again.id)!;
    expect(ignored).toMatchObject({ type: 'drift.detected', ignored: true });
    expect(ignored.note).toMatch(/debounced: loop loop-a/);
    expect((await get('/api/loops/loop-a2')).status).toBe(404);
    expect(h.retrains.filter((r) => r.data.model === 'churn')).toHaveLength(1);
    expect(await (await fetch(`${h.loop.url}/metrics`)).text()).toContain('mlops_loop_open_loops{model="churn",service="loop"} 1');
  });

  it('every later event of the loop is a stage; model.promoted of the candidate ends it promoted, with durations', async () => {
    const cid = 'loop-a';
    await publish(
      [
        ...through('churn', cid, 2, 10),
        event('deployment.requested', cid, 15, { model: 'churn', version: 2, artifactUri: '/tmp/m.onnx', strategy: 'canary', canaryShare: 0.1 }),
        event('deployment.completed', cid, 16, { model: 'churn', version: 2, status: 'serving', trafficShare: 0.1 }),
        event('canary.evaluated', cid, 20, { model: 'churn', version: 2, championVersion: 1, verdict: 'promote', reason: 'ok', predictions: 100, labels: 60 }),
        event('model.promoted', cid, 21, { model: 'churn', version: 2, alias: 'champion', previousVersion: 1 }),
      ],
      cid,
      11,
    );
    const l = await waitFor(async () => {
      const d = await detail(cid);
      return d.status === 'closed' ? d : undefined;
    }, 'loop-a closed');
    expect(l).toMatchObject({ outcome: 'promoted', candidateVersion: 2, durationMs: 21_000 });
    expect(l.outcomeReason).toMatch(/version 2 is champion \(was version 1\)/);
    const acted = l.stages.filter((s) => !s.ignored);
    expect(acted.map((s) => s.type)).toEqual([
      'drift.detected',
      'retrain.requested',
      'dataset.materialized',
      'training.started',
      'training.completed',
      'model.registered',
      'deployment.requested',
      'deployment.completed',
      'canary.evaluated',
      'model.promoted',
    ]);
    const canary = acted.find((s) => s.type === 'canary.evaluated')!;
    expect(canary).toMatchObject({ facts: { verdict: 'promote', predictions: 100, labels: 60 }, sinceStartMs: 20_000, sincePreviousMs: 4_000 });
  });

  it('cooldown: drift soon after a loop ended is ignored; after the cooldown it opens a new loop', async () => {
    const early = drift('churn', 'loop-b-early', 50); // 29 s after loop-a ended; cooldown 60 s
    await h.bus.publish(early);
    await waitFor(async () => (await detail('loop-a')).stages.some((s) => s.eventId === early.id), 'the drift recorded in the cooldown');
    expect((await detail('loop-a')).stages.find((s) => s.eventId === early.id)!.note).toMatch(/cooldown: loop loop-a ended promoted; 31s of cooldown left/);
    await h.bus.publish(drift('churn', 'loop-b', 100));
    await waitFor(() => h.retrains.find((r) => r.correlationId === 'loop-b'), 'a retrain for loop-b');
    expect(h.retrains.filter((r) => r.data.model === 'churn')).toHaveLength(2);
  });

  it('a model.registered carrying a rejecting gate decision ends the loop rejected_by_gate at once, with the gate reason (which names the failing checks)', async () => {
    await h.bus.publish(drift('scoring', 'loop-g', 50));
    const [ds, started, completed] = through('scoring', 'loop-g', 4, 50);
    const registered = event('model.registered', 'loop-g', 54, {
      model: 'scoring',
      version: 4,
      artifactHash: 'c'.repeat(64),
      gate: {
        passed: false,
        reason: 'failing checks of release policy version 2: champion (candidate 0.61 vs champion version 3 0.9: reject), fairness (worst slice region us accuracy 0.7 vs overall 0.9: gap 0.2 > 0.05); candidate 0.61 vs champion version 3 0.9: reject',
        metric: 'accuracy',
        candidateScore: 0.61,
        championVersion: 3,
        championScore: 0.9,
        failedChecks: ['champion', 'fairness'],
      },
    });
    await publish([ds, started, completed, registered], 'loop-g', 5);
    const g = await waitFor(async () => ((await detail('loop-g')).status === 'closed' ? detail('loop-g') : undefined), 'loop-g closed', 10_000);
    expect(g).toMatchObject({ outcome: 'rejected_by_gate', candidateVersion: 4 });
    expect(g.outcomeReason).toBe(
      "the registry's gate rejected version 4: failing checks of release policy version 2: champion (candidate 0.61 vs champion version 3 0.9: reject), fairness (worst slice region us accuracy 0.7 vs overall 0.9: gap 0.2 > 0.05); candidate 0.61 vs champion version 3 0.9: reject",
    );
  });

  it("serving's warm-up rejecting the candidate (deployment.completed rejected) ends the loop rejected_by_gate, naming the check with measured and bound", async () => {
    await h.bus.publish(drift('scoring', 'loop-w', 300));
    const validation = { latencyP99Ms: 5, holdoutUri: '/tmp/holdout.npy' };
    const requested = event('deployment.requested', 'loop-w', 305, { model: 'scoring', version: 5, artifactUri: '/tmp/m.onnx', strategy: 'canary', canaryShare: 0.1, validation });
    const checkDetail = 'p99 41.2 ms > bound 5 ms (200 holdout rows, one per request, after 5 untimed)';
    const rejected = event('deployment.completed', 'loop-w', 306, {
      model: 'scoring',
      version: 5,
      status: 'rejected',
      trafficShare: 0,
      strategy: 'canary',
      error: `latency ${checkDetail}`,
      checks: [{ name: 'latency', passed: false, measured: 41.2, bound: 5, detail: checkDetail }],
    });
    await publish([...through('scoring', 'loop-w', 5, 300), requested, rejected], 'loop-w', 7);
    const w = await waitFor(async () => ((await detail('loop-w')).status === 'closed' ? detail('loop-w') : undefined), 'loop-w closed', 10_000);
    expect(w).toMatchObject({ outcome: 'rejected_by_gate', candidateVersion: 5, outcomeReason: `serving's warm-up rejected version 5: latency ${checkDetail}` });
    expect(w.stages.at(-1)).toMatchObject({ type: 'deployment.completed' });
  });

  it('the gate rejection (no event from the registry) ends the loop rejected_by_gate: from the registry when it answers, else after the gate wait', async () => {
    // loop-b: the registry answers that its gate rejected version 3.
    await publish(through('churn', 'loop-b', 3, 100), 'loop-b', 6);
    gateDecisions.set('churn/3', { passed: false, reason: 'accuracy as reported by training: candidate 0.6 vs champion version 2 0.9: reject' });
    expect(await h.loop.service.sweep()).toBe(1);
    const b = await detail('loop-b');
    expect(b).toMatchObject({ status: 'closed', outcome: 'rejected_by_gate' });
    expect(b.outcomeReason).toMatch(/gate rejected version 3: accuracy.*reject/);
    expect(b.stages.at(-1)).toMatchObject({ type: 'gate.rejected', facts: { version: 3 } });

    // loop-c (another model): the registry does not know; the wait decides.
    await h.bus.publish(drift('fraud', 'loop-c', 200));
    await publish(through('fraud', 'loop-c', 1, 200), 'loop-c', 6);
    expect(await h.loop.service.sweep()).toBe(0);
    clock += 31_000;
    expect(await h.loop.service.sweep()).toBe(1);
    const c = await detail('loop-c');
    expect(c).toMatchObject({ outcome: 'rejected_by_gate' });
    expect(c.outcomeReason).toMatch(/no deployment.requested 31s after version 1 was registered/);
  });

  it('a registration followed by deployment.requested is never taken for a rejection, whichever is applied first', async () => {
    await h.bus.publish(drift('fraud', 'loop-d', 1_000));
    const [ds, started, completed, registered] = through('fraud', 'loop-d', 2, 1_000);
    const requested = event('deployment.requested', 'loop-d', 1_005, { model: 'fraud', version: 2, artifactUri: '/tmp/m.onnx', strategy: 'canary', canaryShare: 0.1 });
    await publish([ds, started, completed, requested, registered], 'loop-d', 7);
    clock += 3_600_000 - 1;
    expect(await h.loop.service.sweep()).toBe(0);
    expect((await detail('loop-d')).status).toBe('open');
  });

  it('model.rolled_back ends a loop rolled_back; training.failed ends one failed', async () => {
    await h.bus.publish(event('canary.evaluated', 'loop-d', 1_010, { model: 'fraud', version: 2, championVersion: 1, verdict: 'rollback', reason: 'canary accuracy 0.6 vs 0.9', predictions: 100, labels: 60 }));
    await h.bus.publish(event('model.rolled_back', 'loop-d', 1_011, { model: 'fraud', version: 2, restoredVersion: 1, reason: 'canary accuracy 0.6 vs 0.9' }));
    const d = await waitFor(async () => ((await detail('loop-d')).status === 'closed' ? detail('loop-d') : undefined), 'loop-d closed');
    expect(d).toMatchObject({ outcome: 'rolled_back' });
    expect(d.outcomeReason).toMatch(/version 2 rolled back \(version 1 serves\): canary accuracy 0.6 vs 0.9/);

    await h.bus.publish(drift('fraud', 'loop-e', 2_000));
    await h.bus.publish(event('training.failed', 'loop-e', 2_001, { jobId: 'j', model: 'fraud', error: 'dataset is empty' }));
    const e = await waitFor(async () => ((await detail('loop-e')).status === 'closed' ? detail('loop-e') : undefined), 'loop-e closed');
    expect(e).toMatchObject({ outcome: 'failed', outcomeReason: 'training failed: dataset is empty' });
  });

  it('GET /api/loops filters by model, status and outcome; bad filters are 400 naming the field, unknown loops 404', async () => {
    const list = async (query: string) => ((await get(`/api/loops?${query}`)).body.loops as { correlationId: string }[]).map((l) => l.correlationId);
    expect(await list('model=churn')).toEqual(['loop-b', 'loop-a']);
    expect(await list('model=fraud&outcome=rolled_back')).toEqual(['loop-d']);
    expect(await list('status=open')).toEqual([]);
    expect((await list('status=closed')).sort()).toEqual(['loop-a', 'loop-b', 'loop-c', 'loop-d', 'loop-e', 'loop-g', 'loop-w']);
    const bad = await get('/api/loops?status=done');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
    expect(String(bad.body.message)).toMatch(/^status: /);
    expect((await get('/api/loops/nope')).status).toBe(404);
  });

  it('GET /metrics counts loops by outcome and the drift it ignored, and reads open loops from the database', async () => {
    const text = await (await fetch(`${h.loop.url}/metrics`)).text();
    expect(text).toContain('mlops_loop_loops_opened_total{model="churn",service="loop"} 2');
    expect(text).toContain('mlops_loop_loops_ended_total{model="churn",outcome="promoted",service="loop"} 1');
    expect(text).toContain('mlops_loop_loops_ended_total{model="churn",outcome="rejected_by_gate",service="loop"} 1');
    expect(text).toContain('mlops_loop_loops_ended_total{model="fraud",outcome="rolled_back",service="loop"} 1');
    expect(text).toContain('mlops_loop_drift_ignored_total{model="churn",reason="debounce",service="loop"} 1');
    expect(text).toContain('mlops_loop_drift_ignored_total{model="churn",reason="cooldown",service="loop"} 1');
    expect(text).toContain('mlops_loop_duration_seconds_bucket{le="30",service="loop",model="churn",outcome="promoted"} 1');
    expect(text).not.toMatch(/^mlops_loop_open_loops\{/m);
    // and the HTTP metrics every service's API has
    expect(text).toMatch(/^mlops_http_requests_total\{.*route="\/api\/loops\/:correlationId".*\} \d+/m);
  });

  it('state survives a restart on the same database file', async () => {
    const before = await detail('loop-a');
    // A new, empty bus: what the restarted controller knows comes from its database.
    await h.restart({ emptyBus: true });
    expect(await detail('loop-a')).toEqual(before);
  });
});
