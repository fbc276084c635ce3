import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createEventBus, KafkaAdminKit, type EventBus } from '@mlops/bus';
import { createEvent, type AnyEvent } from '@mlops/contracts';
import { infraEnv } from '../../../../test/infra/infra-env';
import { waitFor } from '../../../../test/support/wait-for';
import { failFirst, WebhookReceiver, type ReceivedWebhook } from '../../../../test/support/webhook-receiver';
import { startLoop, type LoopApp } from '../loop.app';
import { loadLoopConfig } from '../loop.config';
import { LOOP_EVENT_TYPES } from '../loop.names';
import { verifySignature } from './signing';
import type { DeliveryView, WebhookView } from './webhooks.service';

/**
 * Webhook notifications on real Kafka and Postgres: model.rolled_back from Kafka reaches a
 * receiver signed, and a receiver that answers 500 gets the same delivery again after the backoff.
 */
describe('webhook notifications on real Kafka and Postgres', () => {
  const infra = infraEnv();
  const run = randomUUID().slice(0, 8);
  const model = `webhook-it-${run}`;
  const probeModel = `webhook-it-probe-${run}`;
  const secret = `secret-${randomUUID()}`;
  const group = `webhook-it-${randomUUID()}`;
  let loop: LoopApp;
  let producer: EventBus;
  let receiver: WebhookReceiver;
  const hooks: WebhookView[] = [];

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${loop.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const create = async (path: string, m: string) => {
    const { status, body } = await call('POST', '/api/webhooks', { url: `${receiver.url}${path}`, secret, events: ['model.rolled_back'], model: m });
    expect(status).toBe(201);
    hooks.push(body.webhook as WebhookView);
    return body.webhook as WebhookView;
  };
  const rolledBack = (m: string, version: number) =>
    createEvent('model.rolled_back', { source: 'webhook-it', subject: m, correlationId: randomUUID(), data: { model: m, version, restoredVersion: version - 1, reason: 'canary accuracy 0.6 vs 0.9' } }) as AnyEvent;
  const verified = (r: ReceivedWebhook) =>
    verifySignature(secret, String(r.headers['x-mlops-delivery-id']), String(r.headers['x-mlops-timestamp']), r.body, String(r.headers['x-mlops-signature']));

  beforeAll(async () => {
    const admin = new KafkaAdminKit({ clientId: 'webhook-it', brokers: infra.KAFKA_BROKERS.split(','), logLevel: 'nothing' });
    await admin.createTopics([...LOOP_EVENT_TYPES, 'data.validated']).finally(() => admin.close());
    receiver = await new WebhookReceiver((request, earlier) => (request.path === '/flaky' ? failFirst(request, earlier) : 200)).start();
    loop = await startLoop(
      loadLoopConfig({
        BUS: 'kafka',
        KAFKA_BROKERS: infra.KAFKA_BROKERS,
        DATABASE_URL: infra.DATABASE_URL,
        LOOP_PORT: '0',
        LOOP_GROUP: group,
        INSTANCE_ID: `webhook-it-${run}`,
        LOOP_WEBHOOK_RETRY_BASE_MS: '500',
        LOOP_WEBHOOK_POLL_MS: '100',
      }),
      { logger: false, defaultMetrics: false },
    );
    producer = createEventBus({ BUS: 'kafka', KAFKA_BROKERS: infra.KAFKA_BROKERS.split(','), KAFKA_SSL: false }, { service: 'webhook-it' });
    // The notifications group starts at the end of its topics once it has its partitions:
    // probe with rollbacks of a model only the probe webhook wants until one arrives.
    await create('/probe', probeModel);
    await waitFor(
      async () => {
        await producer.publish(rolledBack(probeModel, 2));
        await sleep(500);
        return receiver.at('/probe').length > 0;
      },
      'the notifications consumer to read Kafka',
      90_000,
    );
  }, 120_000);
  afterAll(async () => {
    for (const hook of hooks) await call('DELETE', `/api/webhooks/${hook.id}`).catch(() => undefined);
    await producer?.close();
    await loop?.close();
    await receiver?.close();
  });

  it('model.rolled_back on Kafka: a signed notification; the receiver that answered 500 gets the same delivery again', async () => {
    const ok = await create('/ok', model);
    const flaky = await create('/flaky', model);
    const event = rolledBack(model, 5);
    await producer.publish(event);

    const [delivered] = await waitFor(() => (receiver.at('/ok').length ? receiver.at('/ok') : undefined), 'the notification at /ok', 30_000);
    expect(verified(delivered!)).toBe(true);
    expect(JSON.parse(delivered!.body)).toEqual({
      id: event.id,
      event: 'model.rolled_back',
      model,
      occurredAt: event.time,
      data: { model, version: 5, restoredVersion: 4, reason: 'canary accuracy 0.6 vs 0.9', correlationId: event.correlationId },
    });

    const [refused, retried] = await waitFor(() => (receiver.at('/flaky').length >= 2 ? receiver.at('/flaky') : undefined), 'the retry at /flaky', 30_000);
    expect([refused!.answered, retried!.answered]).toEqual([500, 200]);
    expect(retried!.headers['x-mlops-delivery-id']).toBe(refused!.headers['x-mlops-delivery-id']);
    expect(retried!.body).toBe(delivered!.body);
    expect(verified(refused!) && verified(retried!)).toBe(true);

    const log = await waitFor(async () => {
      const [d] = (await call('GET', `/api/webhooks/${flaky.id}/deliveries`)).body.deliveries as DeliveryView[];
      return d?.status === 'delivered' ? d : undefined;
    }, 'the retry in the delivery log', 10_000);
    expect(log).toMatchObject({ id: refused!.headers['x-mlops-delivery-id'], notificationId: event.id, event: 'model.rolled_back', model, attempts: 2, statusCode: 200, lastError: null, nextAttemptAt: null });
    expect((await call('GET', `/api/webhooks/${ok.id}/deliveries`)).body.deliveries).toMatchObject([{ status: 'delivered', attempts: 1 }]);
  });

  it('GET /metrics: mlops_kafka_consumer_lag of each of the loop\'s consumer groups, per topic partition, read from the broker', async () => {
    const text = await (await fetch(`${loop.url}/metrics`)).text();
    const lags = [...text.matchAll(/^mlops_kafka_consumer_lag\{([^}]*)\} (\d+)$/gm)].map((m) => Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]])));
    const groups = new Set(lags.map((l) => l.group));
    expect(groups).toEqual(new Set([group, `${group}.new-data`, `${group}.notifications`]));
    expect(lags).toContainEqual({ service: 'loop', group: `${group}.notifications`, topic: 'model.rolled_back', partition: expect.stringMatching(/^\d+$/) });
    expect(lags.filter((l) => l.group === group).map((l) => l.topic)).toEqual(expect.arrayContaining(['drift.detected', 'model.rolled_back', 'training.failed']));
  });
});
