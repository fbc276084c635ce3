import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { NotFoundError } from '@mlops/errors';
import { LOOP_CLOCK, LOOP_LOG, type LoopClock, type LoopLog } from '../loop.settings';
import type { NotificationEvent } from './notification-events';
import type { DeliveryRow, DeliveryStatus, WebhookRow } from './store/notifications.entities';
import { SecretBox } from './secret-box';
import type { WebhookInput } from './webhook-config';
import { WebhooksRepository } from './store/webhooks.repository';

/** A webhook as the API shows it (never its secret). */
export interface WebhookView {
  id: string;
  url: string;
  events: NotificationEvent[];
  /** null: every model. */
  model: string | null;
  createdAt: string;
}

/** One entry of a webhook's delivery log. */
export interface DeliveryView {
  id: string;
  notificationId: string;
  event: string;
  model: string;
  status: DeliveryStatus;
  attempts: number;
  /** The status code of the latest attempt, null when it got none (timeout, refused connection) or none was made. */
  statusCode: number | null;
  lastError: string | null;
  deliveredAt: string | null;
  /** When the next attempt is due; null once delivered or failed. */
  nextAttemptAt: string | null;
  createdAt: string;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function webhookView(row: WebhookRow): WebhookView {
  return { id: row.id, url: row.url, events: JSON.parse(row.events) as NotificationEvent[], model: row.model, createdAt: iso(row.createdAt)! };
}

function deliveryView(row: DeliveryRow): DeliveryView {
  return {
    id: row.id,
    notificationId: row.notificationId,
    event: row.event,
    model: row.model,
    status: row.status,
    attempts: row.attempts,
    statusCode: row.statusCode,
    lastError: row.lastError,
    deliveredAt: iso(row.deliveredAt),
    nextAttemptAt: iso(row.nextAttemptAt),
    createdAt: iso(row.createdAt)!,
  };
}

/** The webhooks users configure (per model or global) and their delivery logs. */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly webhooks: WebhooksRepository,
    private readonly secrets: SecretBox,
    @Inject(LOOP_CLOCK) private readonly now: LoopClock,
    @Inject(LOOP_LOG) private readonly log: LoopLog,
  ) {}

  async create(input: WebhookInput): Promise<WebhookView> {
    const row: WebhookRow = { id: randomUUID(), url: input.url, secret: this.secrets.seal(input.secret), events: JSON.stringify(input.events), model: input.model ?? null, createdAt: this.now() };
    await this.webhooks.insert(row);
    const stored = this.secrets.encrypts ? 'secret encrypted at rest' : 'secret stored as given: set LOOP_WEBHOOK_SECRET_KEY to encrypt it';
    this.log.log(`webhook ${row.id} created: ${input.events.join(', ')} of ${input.model ?? 'every model'} to ${input.url} (${stored})`);
    return webhookView(row);
  }

  async list(): Promise<WebhookView[]> {
    return (await this.webhooks.all()).map(webhookView);
  }

  async get(id: string): Promise<WebhookView> {
    return webhookView(await this.existing(id));
  }

  async remove(id: string): Promise<void> {
    if (!(await this.webhooks.remove(id))) throw new NotFoundError(`webhook ${id} does not exist`);
    this.log.log(`webhook ${id} deleted, with its deliveries`);
  }

  async deliveries(id: string, query: { status?: DeliveryStatus; limit: number }): Promise<DeliveryView[]> {
    await this.existing(id);
    return (await this.webhooks.deliveriesOf(id, query)).map(deliveryView);
  }

  private async existing(id: string): Promise<WebhookRow> {
    const row = await this.webhooks.find(id);
    if (!row) throw new NotFoundError(`webhook ${id} does not exist`);
    return row;
  }
}
