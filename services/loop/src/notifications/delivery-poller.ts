import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { LoopMetrics } from '../loop.metrics';
import { LOOP_CLOCK, LOOP_LOG, LOOP_SETTINGS, type LoopClock, type LoopLog, type LoopSettings } from '../loop.settings';
import { PeriodicTask } from '../periodic-task';
import { retryDelay } from './backoff';
import { SecretBox } from './secret-box';
import type { DeliveryRow } from './store/notifications.entities';
import { signedHeaders } from './signing';
import { postWebhook } from './webhook-sender';
import { WebhooksRepository } from './store/webhooks.repository';

/** Due deliveries taken per poll (each sent concurrently). */
const BATCH = 20;

/**
 * Sends due webhook deliveries every LOOP_WEBHOOK_POLL_MS, one poll at a time: each is claimed
 * in the database first (so of several loop controllers one sends it), POSTed signed, and its
 * outcome stored: delivered, retried after the backoff, or failed after LOOP_WEBHOOK_MAX_ATTEMPTS.
 */
@Injectable()
export class DeliveryPoller implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly polls: PeriodicTask;

  constructor(
    private readonly webhooks: WebhooksRepository,
    private readonly secrets: SecretBox,
    private readonly metrics: LoopMetrics,
    @Inject(LOOP_SETTINGS) private readonly settings: LoopSettings,
    @Inject(LOOP_CLOCK) private readonly now: LoopClock,
    @Inject(LOOP_LOG) private readonly log: LoopLog,
  ) {
    this.polls = new PeriodicTask('webhook delivery poll', () => this.poll(), log);
  }

  onApplicationBootstrap(): void {
    this.polls.start(this.settings.webhooks.pollMs);
  }

  onModuleDestroy(): Promise<void> {
    return this.polls.stop();
  }

  /** Attempts every due delivery this instance can claim; returns how many it attempted. */
  async poll(): Promise<number> {
    const { timeoutMs } = this.settings.webhooks;
    const now = this.now();
    const claimed: DeliveryRow[] = [];
    for (const row of await this.webhooks.due(now, BATCH)) {
      // The lease outlasts the attempt; after it the delivery is due again (the instance died).
      if (await this.webhooks.claim(row, this.settings.triggers.instance, now + timeoutMs + 5000)) claimed.push(row);
    }
    await Promise.all(claimed.map((row) => this.attempt(row)));
    return claimed.length;
  }

  private async attempt(row: DeliveryRow): Promise<void> {
    const webhook = await this.webhooks.find(row.webhookId);
    // Deleted since it was claimed: its deliveries went with it.
    if (!webhook) return;
    const attempts = row.attempts + 1;
    const what = `webhook ${webhook.id} (${webhook.url}): delivery ${row.id} of ${row.event} for ${row.model}`;
    let secret: string;
    try {
      secret = this.secrets.open(webhook.secret);
    } catch (error) {
      // Not sent unsigned, and no retry helps until the key is put right.
      const reason = (error as Error).message;
      await this.webhooks.record(row.id, { status: 'failed', attempts, statusCode: null, lastError: reason, nextAttemptAt: null, deliveredAt: null });
      this.metrics.webhookAttempts.inc({ event: row.event, result: 'failed' });
      this.log.error(`${what} not sent: ${reason}`);
      return;
    }
    const result = await postWebhook(webhook.url, signedHeaders(secret, row.id, this.now(), row.payload), row.payload, this.settings.webhooks.timeoutMs);
    const at = this.now();
    if (result.ok) {
      await this.webhooks.record(row.id, { status: 'delivered', attempts, statusCode: result.statusCode, lastError: null, nextAttemptAt: null, deliveredAt: at });
      this.metrics.webhookAttempts.inc({ event: row.event, result: 'delivered' });
      this.log.log(`${what} delivered on attempt ${attempts} (HTTP ${result.statusCode})`);
      return;
    }
    const delay = retryDelay(this.settings.webhooks, attempts);
    if (delay === undefined) {
      await this.webhooks.record(row.id, { status: 'failed', attempts, statusCode: result.statusCode, lastError: result.error, nextAttemptAt: null, deliveredAt: null });
      this.metrics.webhookAttempts.inc({ event: row.event, result: 'failed' });
      this.log.error(`${what} failed on attempt ${attempts}, the last one (LOOP_WEBHOOK_MAX_ATTEMPTS): ${result.error}; given up`);
      return;
    }
    await this.webhooks.record(row.id, { status: 'pending', attempts, statusCode: result.statusCode, lastError: result.error, nextAttemptAt: at + delay, deliveredAt: null });
    this.metrics.webhookAttempts.inc({ event: row.event, result: 'retry' });
    this.log.warn(`${what} failed on attempt ${attempts}: ${result.error}; next attempt in ${delay} ms`);
  }
}
