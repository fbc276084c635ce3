import { createEvent, type AnyEvent, type EventType, type PayloadInput } from '@mlops/contracts';
import { waitFor } from '../../../../test/support/wait-for';
import { failFirst, WebhookReceiver, type ReceivedWebhook } from '../../../../test/support/webhook-receiver';
import { LoopHarness } from '../test/loop-harness';
import { SecretBox } from './secret-box';
import { verifySignature } from './signing';
import { WebhooksRepository } from './store/webhooks.repository';
import type { DeliveryView, WebhookView } from './webhooks.service';

const T0 = Date.UTC(2026, 0, 1);
const SECRET = 'a-test-secret-of-some-length';

describe('webhook notifications (in-process bus, SQLite, real HTTP receivers)', () => {
  let h: LoopHarness;
  let receiver: WebhookReceiver;
  let clock = T0;

  const call = (method: string, path: string, body?: unknown) => h.call(method, path, body);
  const create = async (body: Record<string, unknown>) => {
    const { status, body: answer } = await call('POST', '/api/webhooks', { secret: SECRET, ...body });
    expect(status).toBe(201);
    return answer.webhook as WebhookView;
  };
  const deliveries = async (id: string) => (await call('GET', `/api/webhooks/${id}/deliveries`)).body.deliveries as DeliveryView[];
  const event = <T extends EventType>(type: T, correlationId: string, data: PayloadInput<T>) =>
    createEvent(type, { source: 'test', subject: (data as { model: string }).model, correlationId, time: new Date(clock), data } as never) as AnyEvent;
  const drift = (model: string, correlationId: string) =>
    event('drift.detected', correlationId, {
      model,
      version: 1,
      window: { start: new Date(clock - 1000).toISOString(), end: new Date(clock).toISOString(), size: 300 },
      datasetDrift: { share: 1, threshold: 0.5 },
      features: [{ feature: 'f0', statistic: 'ks', value: 0.4, threshold: 0.05, drifted: true }],
    });
  const verified = (r: ReceivedWebhook) =>
    verifySignature(SECRET, String(r.headers['x-mlops-delivery-id']), String(r.headers['x-mlops-timestamp']), r.body, String(r.headers['x-mlops-signature']));
  const bodyOf = (r: ReceivedWebhook) => JSON.parse(r.body) as { id: string; event: string; model: string; occurredAt: string; data: Record<string, unknown> };

  beforeAll(async () => {
    receiver = await new WebhookReceiver((request, earlier) => (request.path === '/flaky' ? failFirst(request, earlier) : 200)).start();
    h = await LoopHarness.start(
      'loop-webhooks',
      {
        LOOP_FEATURE_VIEWS: 'churn:churn_features',
        LOOP_COOLDOWN_S: '0',
        LOOP_STALL_TIMEOUT_S: '60',
        LOOP_SWEEP_INTERVAL_MS: '3600000',
        LOOP_WEBHOOK_RETRY_BASE_MS: '30000',
        LOOP_WEBHOOK_MAX_ATTEMPTS: '2',
        LOOP_WEBHOOK_POLL_MS: '50',
        LOOP_WEBHOOK_SECRET_KEY: 'the operator key of this test',
      },
      { now: () => clock },
    );
  });
  afterAll(async () => {
    await h?.close();
    await receiver?.close();
  });

  it('creates, lists, gets and deletes webhooks; never shows the secret; bad bodies are 400 naming the field and change nothing', async () => {
    const hook = await create({ url: `${receiver.url}/crud`, events: ['loop.failed'], model: 'churn' });
    expect(hook).toEqual({ id: expect.any(String), url: `${receiver.url}/crud`, events: ['loop.failed'], model: 'churn', createdAt: new Date(T0).toISOString() });
    expect((await call('GET', `/api/webhooks/${hook.id}`)).body).toEqual({ webhook: hook });
    const bad = await call('POST', '/api/webhooks', { url: 'not a url', secret: SECRET, events: ['loop.exploded'] });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE', issues: [{ field: 'url' }, { field: 'events.0' }] });
    expect((await call('GET', '/api/webhooks')).body).toEqual({ webhooks: [hook] });
    expect(await call('DELETE', `/api/webhooks/${hook.id}`)).toEqual({ status: 200, body: { deleted: hook.id } });
    expect((await call('GET', `/api/webhooks/${hook.id}`)).status).toBe(404);
    expect((await call('GET', `/api/webhooks/${hook.id}/deliveries`)).status).toBe(404);
    expect((await call('DELETE', `/api/webhooks/${hook.id}`)).status).toBe(404);
    expect((await call('GET', '/api/webhooks')).body).toEqual({ webhooks: [] });
  });

  it('model.rolled_back: a signed notification to the model webhook and the global one, none to another model; a receiver answering 500 gets the same delivery again after the backoff', async () => {
    const ok = await create({ url: `${receiver.url}/ok`, events: ['model.rolled_back'], model: 'churn' });
    const flaky = await create({ url: `${receiver.url}/flaky`, events: ['model.rolled_back', 'drift.detected'] });
    const otherModel = await create({ url: `${receiver.url}/other`, events: ['model.rolled_back'], model: 'fraud' });
    const rolledBack = event('model.rolled_back', 'c-1', { model: 'churn', version: 3, restoredVersion: 2, reason: 'canary accuracy 0.6 vs 0.9' });
    await h.bus.publish(rolledBack);
    await h.bus.publish(rolledBack);

    const [first] = await waitFor(() => (receiver.at('/ok').length ? receiver.at('/ok') : undefined), 'the notification at /ok');
    expect(verified(first!)).toBe(true);
    expect(first!.headers['x-mlops-timestamp']).toBe(String(T0 / 1000));
    expect(bodyOf(first!)).toEqual({
      id: rolledBack.id,
      event: 'model.rolled_back',
      model: 'churn',
      occurredAt: new Date(T0).toISOString(),
      data: { model: 'churn', version: 3, restoredVersion: 2, reason: 'canary accuracy 0.6 vs 0.9', correlationId: 'c-1' },
    });
    const [okLog] = await deliveries(ok.id);
    expect(okLog).toMatchObject({ id: first!.headers['x-mlops-delivery-id'], event: 'model.rolled_back', status: 'delivered', attempts: 1, statusCode: 200, lastError: null, nextAttemptAt: null });

    const failed = await waitFor(async () => ((await deliveries(flaky.id))[0]?.attempts === 1 ? (await deliveries(flaky.id))[0] : undefined), 'the first attempt at /flaky');
    expect(failed).toMatchObject({ status: 'pending', statusCode: 500, lastError: 'HTTP 500: receiver unavailable', nextAttemptAt: new Date(T0 + 30_000).toISOString() });
    clock += 30_000;
    const again = await waitFor(() => (receiver.at('/flaky').length === 2 ? receiver.at('/flaky') : undefined), 'the retry at /flaky');
    expect(again.map((r) => r.headers['x-mlops-delivery-id'])).toEqual([failed.id, failed.id]);
    expect(again.map((r) => r.body)).toEqual([first!.body, first!.body]);
    expect(again.every(verified)).toBe(true);
    const retried = await waitFor(async () => ((await deliveries(flaky.id))[0]?.status === 'delivered' ? (await deliveries(flaky.id))[0] : undefined), 'the retry recorded');
    expect(retried).toMatchObject({ attempts: 2, statusCode: 200, lastError: null, deliveredAt: new Date(T0 + 30_000).toISOString() });
    // The same notification for all three webhooks was stored in one transaction: fraud's webhook has none.
    expect(await deliveries(otherModel.id)).toEqual([]);
    // The redelivered event added no second delivery.
    expect(await deliveries(ok.id)).toHaveLength(1);
    const metrics = await (await fetch(`${h.loop.url}/metrics`)).text();
    expect(metrics).toContain('mlops_loop_webhook_attempts_total{event="model.rolled_back",result="delivered",service="loop"} 2');
    expect(metrics).toContain('mlops_loop_webhook_attempts_total{event="model.rolled_back",result="retry",service="loop"} 1');
    for (const hook of [ok, flaky, otherModel]) await call('DELETE', `/api/webhooks/${hook.id}`);
  });

  it('a receiver that never answers 2xx: the delivery is given up as failed after LOOP_WEBHOOK_MAX_ATTEMPTS', async () => {
    const closed = await new WebhookReceiver().start();
    await closed.close();
    const down = await create({ url: `${closed.url}/refused`, events: ['performance.degraded'] });
    await h.bus.publish(event('performance.degraded', 'c-2', { model: 'fraud', version: 1, metric: 'accuracy', value: 0.6, baseline: 0.9, threshold: 0.1 }));
    await waitFor(async () => (await deliveries(down.id))[0]?.attempts === 1, 'the first attempt');
    clock += 30_000;
    const [given] = await waitFor(async () => ((await deliveries(down.id))[0]?.status === 'failed' ? deliveries(down.id) : undefined), 'the delivery given up');
    expect(given).toMatchObject({ event: 'performance.degraded', attempts: 2, statusCode: null, nextAttemptAt: null, deliveredAt: null, lastError: expect.stringMatching(/ECONNREFUSED/) });
    await call('DELETE', `/api/webhooks/${down.id}`);
  });

  it('the loop: training.failed notifies loop.failed, a stalled loop loop.stalled, a gate rejection gate.rejected (from the event, or inferred by the sweep)', async () => {
    const hook = await create({ url: `${receiver.url}/loops`, events: ['loop.failed', 'loop.stalled', 'gate.rejected'], model: 'churn' });
    const notified = () => receiver.at('/loops').map(bodyOf);

    const opened = (id: string) => waitFor(async () => (await call('GET', `/api/loops/${id}`)).status === 200, `${id} open`, 5000);
    await h.bus.publish(drift('churn', 'loop-f'));
    await opened('loop-f');
    await h.bus.publish(event('training.failed', 'loop-f', { jobId: 'j', model: 'churn', error: 'dataset is empty' }));
    await waitFor(() => notified().find((n) => n.event === 'loop.failed'), 'loop.failed', 5000);

    clock += 1000;
    await h.bus.publish(drift('churn', 'loop-s'));
    await opened('loop-s');
    clock += 61_000;
    expect(await h.loop.service.sweep()).toBe(1);
    await waitFor(() => notified().find((n) => n.event === 'loop.stalled'), 'loop.stalled', 5000);

    clock += 1000;
    await h.bus.publish(drift('churn', 'loop-g'));
    await opened('loop-g');
    const gate = { passed: false, reason: 'candidate 0.61 vs champion 0.9: reject', metric: 'accuracy', candidateScore: 0.61, championScore: 0.9 };
    await h.bus.publish(event('model.registered', 'loop-g', { model: 'churn', version: 7, artifactHash: 'c'.repeat(64), gate }));
    await waitFor(() => notified().find((n) => n.event === 'gate.rejected'), 'gate.rejected', 5000);


    // No gate decision in the event: the sweep infers the rejection after LOOP_GATE_WAIT_S.
    clock += 1000;
    await h.bus.publish(drift('churn', 'loop-h'));
    await opened('loop-h');
    await h.bus.publish(event('model.registered', 'loop-h', { model: 'churn', version: 8, artifactHash: 'd'.repeat(64) }));
    await waitFor(async () => ((await call('GET', '/api/loops/loop-h')).body.loop as { candidateVersion: number | null }).candidateVersion === 8, 'loop-h registered', 5000);
    clock += 61_000;
    expect(await h.loop.service.sweep()).toBe(1);
    await waitFor(() => notified().find((n) => n.id === 'gate.rejected:churn:v8'), 'the inferred gate.rejected', 5000);

    // Serving's warm-up rejected the candidate (deployment.completed `rejected`): gate.rejected naming the check.
    clock += 1000;
    await h.bus.publish(drift('churn', 'loop-w'));
    await opened('loop-w');
    const latency = { name: 'latency' as const, passed: false, measured: 41.2, bound: 5, detail: 'p99 41.2 ms > bound 5 ms (200 holdout rows, one per request, after 5 untimed)' };
    await h.bus.publish(event('deployment.completed', 'loop-w', { model: 'churn', version: 9, status: 'rejected', trafficShare: 0, checks: [latency] }));
    const warmUp = await waitFor(() => notified().find((n) => n.id === 'gate.rejected:churn:v9'), "serving's gate.rejected", 5000);
    expect(warmUp.data).toMatchObject({ correlationId: 'loop-w', outcome: 'rejected_by_gate', version: 9, reason: `serving's warm-up rejected version 9: latency ${latency.detail}` });

    const log = await waitFor(async () => {
      const all = await deliveries(hook.id);
      return all.length === 5 && all.every((d) => d.status === 'delivered') ? all : undefined;
    }, 'five deliveries', 5000);
    expect(log.map((d) => d.event).sort()).toEqual(['gate.rejected', 'gate.rejected', 'gate.rejected', 'loop.failed', 'loop.stalled']);
    expect(notified().find((n) => n.id === 'gate.rejected:churn:v8')?.data).toMatchObject({ correlationId: 'loop-h', outcome: 'rejected_by_gate', version: 8 });
    expect(notified().find((n) => n.event === 'loop.failed')).toMatchObject({ id: 'loop:loop-f:loop.failed', model: 'churn', data: { correlationId: 'loop-f', outcome: 'failed', reason: 'training failed: dataset is empty' } });
    expect(notified().find((n) => n.event === 'loop.stalled')?.data.reason).toMatch(/LOOP_STALL_TIMEOUT_S/);
    expect(notified().find((n) => n.event === 'gate.rejected')).toMatchObject({ id: 'gate.rejected:churn:v7', data: { version: 7, reason: gate.reason } });
    expect(receiver.at('/loops').every(verified)).toBe(true);
  }, 20_000);

  it('two instances that read the same due delivery: exactly one claims it; the claim is a lease that ends', async () => {
    const repository = h.loop.app.get(WebhooksRepository, { strict: false });
    const hook = await create({ url: `${receiver.url}/claims`, events: ['drift.detected'], model: 'claims' });
    await repository.transaction((tx) =>
      repository.enqueue(tx, [
        { id: 'd-claim', webhookId: hook.id, notificationId: 'n-claim', event: 'drift.detected', model: 'claims', payload: '{}', status: 'pending', attempts: 0, statusCode: null, lastError: null, nextAttemptAt: clock + 3_600_000, deliveredAt: null, claimedBy: null, createdAt: clock },
      ]),
    );
    const [seenByA] = await repository.due(clock + 3_600_000, 100).then((rows) => rows.filter((r) => r.id === 'd-claim'));
    const [seenByB] = await repository.due(clock + 3_600_000, 100).then((rows) => rows.filter((r) => r.id === 'd-claim'));
    expect(await repository.claim(seenByA!, 'instance-a', clock + 3_700_000)).toBe(true);
    expect(await repository.claim(seenByB!, 'instance-b', clock + 3_700_000)).toBe(false);
    // Instance a died during the attempt: after the lease the delivery is due again, for anyone.
    const [again] = await repository.due(clock + 3_700_000, 100).then((rows) => rows.filter((r) => r.id === 'd-claim'));
    expect(again).toMatchObject({ claimedBy: 'instance-a', attempts: 0, status: 'pending' });
    expect(await repository.claim(again!, 'instance-b', clock + 3_800_000)).toBe(true);
    await call('DELETE', `/api/webhooks/${hook.id}`);
  });

  it('with LOOP_WEBHOOK_SECRET_KEY the secret is stored encrypted (deliveries still verify with it); one sealed under another key is not sent, its delivery failed saying why', async () => {
    const repository = h.loop.app.get(WebhooksRepository, { strict: false });
    const hook = await create({ url: `${receiver.url}/sealed`, events: ['drift.detected'], model: 'sealed' });
    const stored = (await repository.find(hook.id))!.secret;
    expect(stored).toMatch(/^enc:v1:/);
    expect(stored).not.toContain(SECRET);
    expect(new SecretBox('the operator key of this test').open(stored)).toBe(SECRET);
    await h.bus.publish(drift('sealed', 'c-sealed'));
    const [sent] = await waitFor(() => (receiver.at('/sealed').length ? receiver.at('/sealed') : undefined), 'the delivery to /sealed');
    expect(verified(sent)).toBe(true);

    const otherKey = { id: 'w-other-key', url: `${receiver.url}/other-key`, secret: new SecretBox('a key this loop does not have').seal(SECRET), events: JSON.stringify(['drift.detected']), model: 'other-key', createdAt: clock };
    await repository.insert(otherKey);
    await h.bus.publish(drift('other-key', 'c-other-key'));
    const [failed] = await waitFor(async () => {
      const log = await deliveries(otherKey.id);
      return log.length && log[0].status === 'failed' ? log : undefined;
    }, 'the delivery under another key failed');
    expect(failed).toMatchObject({ attempts: 1, statusCode: null, lastError: expect.stringContaining('encrypted under another key') });
    expect(receiver.at('/other-key')).toEqual([]);
    await call('DELETE', `/api/webhooks/${hook.id}`);
    await call('DELETE', `/api/webhooks/${otherKey.id}`);
  });
});
