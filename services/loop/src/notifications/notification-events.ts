/** What a webhook can subscribe to. */
export const NOTIFICATION_EVENTS = ['gate.rejected', 'model.rolled_back', 'drift.detected', 'performance.degraded', 'loop.failed', 'loop.stalled'] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/** One notification, as every webhook subscribed to it receives it (the POST body). */
export interface Notification {
  /** The same for every webhook and every retry: the bus event's id, or what the loop decided (`loop:<correlationId>:<outcome>`). */
  id: string;
  event: NotificationEvent;
  model: string;
  /** ISO time of what happened (the bus event's time, or the loop's end). */
  occurredAt: string;
  data: Record<string, unknown>;
}
