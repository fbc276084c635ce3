import { EntitySchema, type ValueTransformer } from 'typeorm';

/** Postgres returns BIGINT as a string; times are epoch ms that fit a double. */
const bigintNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? null : Number(value)),
};

export interface WebhookRow {
  id: string;
  url: string;
  /** The HMAC key of the signature; never shown by the API. */
  secret: string;
  /** JSON NotificationEvent[] */
  events: string;
  /** null: every model. */
  model: string | null;
  createdAt: number;
}

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** One notification for one webhook, stored before the first attempt; unique per (webhook, notification). */
export interface DeliveryRow {
  id: string;
  webhookId: string;
  notificationId: string;
  event: string;
  model: string;
  /** The exact JSON body every attempt sends (and signs). */
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  statusCode: number | null;
  lastError: string | null;
  /** When the next attempt is due (epoch ms); also the lease of an attempt under way. null once delivered or failed. */
  nextAttemptAt: number | null;
  deliveredAt: number | null;
  /** The instance that made the latest attempt. */
  claimedBy: string | null;
  createdAt: number;
}

export const WebhookEntity = new EntitySchema<WebhookRow>({
  name: 'LoopWebhook',
  tableName: 'loop_webhooks',
  columns: {
    id: { type: String, primary: true, length: 36 },
    url: { type: 'text' },
    secret: { type: 'text' },
    events: { type: 'text' },
    model: { type: String, length: 200, nullable: true },
    createdAt: { type: 'bigint', name: 'created_at', transformer: bigintNumber },
  },
});

export const DeliveryEntity = new EntitySchema<DeliveryRow>({
  name: 'LoopWebhookDelivery',
  tableName: 'loop_webhook_deliveries',
  columns: {
    id: { type: String, primary: true, length: 36 },
    webhookId: { type: String, length: 36, name: 'webhook_id' },
    notificationId: { type: String, length: 300, name: 'notification_id' },
    event: { type: String, length: 40 },
    model: { type: String, length: 200 },
    payload: { type: 'text' },
    status: { type: String, length: 20 },
    attempts: { type: Number },
    statusCode: { type: Number, name: 'status_code', nullable: true },
    lastError: { type: 'text', name: 'last_error', nullable: true },
    nextAttemptAt: { type: 'bigint', name: 'next_attempt_at', nullable: true, transformer: bigintNumber },
    deliveredAt: { type: 'bigint', name: 'delivered_at', nullable: true, transformer: bigintNumber },
    claimedBy: { type: String, length: 200, name: 'claimed_by', nullable: true },
    createdAt: { type: 'bigint', name: 'created_at', transformer: bigintNumber },
  },
});

export const notificationEntities = [WebhookEntity, DeliveryEntity];
