import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { LOOP_CLOCK, LOOP_LOG, type LoopClock, type LoopLog } from '../loop.settings';
import type { Notification } from './notification-events';
import type { LoopTx } from '../store/loop.repository';
import type { DeliveryRow, WebhookRow } from './store/notifications.entities';
import { WebhooksRepository } from './store/webhooks.repository';

/** Whether the webhook wants the notification: one of its events, and its model or no model. */
export function subscribed(webhook: Pick<WebhookRow, 'events' | 'model'>, notification: Pick<Notification, 'event' | 'model'>): boolean {
  return (JSON.parse(webhook.events) as string[]).includes(notification.event) && (webhook.model === null || webhook.model === notification.model);
}

/**
 * Turns a notification into one pending delivery per subscribed webhook, stored in the
 * transaction of what caused it (the loop's end, or its own for a bus event): the delivery
 * poller sends them, so a crash before the request loses nothing.
 */
@Injectable()
export class Notifier {
  constructor(
    private readonly webhooks: WebhooksRepository,
    @Inject(LOOP_CLOCK) private readonly now: LoopClock,
    @Inject(LOOP_LOG) private readonly log: LoopLog,
  ) {}

  /** Stores the deliveries in `tx`, or in a transaction of its own; returns a log line to print once committed (undefined: no webhook wants it). */
  async notify(notification: Notification, tx?: LoopTx): Promise<(() => void) | undefined> {
    if (!tx) {
      const logIt = await this.webhooks.transaction((own) => this.notify(notification, own));
      logIt?.();
      return undefined;
    }
    const targets = (await this.webhooks.all(tx)).filter((webhook) => subscribed(webhook, notification));
    if (!targets.length) return undefined;
    const now = this.now();
    const payload = JSON.stringify(notification);
    const rows: DeliveryRow[] = targets.map((webhook) => ({
      id: randomUUID(),
      webhookId: webhook.id,
      notificationId: notification.id,
      event: notification.event,
      model: notification.model,
      payload,
      status: 'pending',
      attempts: 0,
      statusCode: null,
      lastError: null,
      nextAttemptAt: now,
      deliveredAt: null,
      claimedBy: null,
      createdAt: now,
    }));
    await this.webhooks.enqueue(tx, rows);
    return () => this.log.log(`notification ${notification.event} for ${notification.model} (${notification.id}) queued for webhook(s) ${targets.map((w) => w.id).join(', ')}`);
  }
}
