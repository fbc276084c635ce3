import type { EventOf } from '@mlops/contracts';
import { BusConsumer, OnEvent } from '@mlops/runtime';
import { LoopNotifications, NOTIFIED_EVENT_TYPES, type NotifiedEventType } from './loop-notifications';

/** The group suffix webhook notifications read their events in (`<LOOP_GROUP>.notifications`). */
export const NOTIFICATIONS_GROUP = 'notifications';

/**
 * The bus events webhooks are notified of, in a consumer group of their own: every
 * model.rolled_back, drift.detected, performance.degraded and gate-rejecting model.registered,
 * whether a loop is open or not. A redelivered event adds no second delivery (same notification id).
 */
@BusConsumer()
export class NotificationsConsumer {
  constructor(private readonly notifications: LoopNotifications) {}

  @OnEvent(NOTIFIED_EVENT_TYPES, { group: NOTIFICATIONS_GROUP })
  async handle(event: EventOf<NotifiedEventType>) {
    (await this.notifications.onEvent(event))?.();
  }
}
