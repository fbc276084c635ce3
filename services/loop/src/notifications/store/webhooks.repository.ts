import { Injectable } from '@nestjs/common';
import { DataSource, LessThanOrEqual, type EntityManager } from 'typeorm';
import { inTransaction } from '@mlops/persistence';
import { DeliveryEntity, WebhookEntity, type DeliveryRow, type DeliveryStatus, type WebhookRow } from './notifications.entities';

/** The loop_webhooks and loop_webhook_deliveries tables. */
@Injectable()
export class WebhooksRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return inTransaction(this.dataSource, work);
  }

  async insert(row: WebhookRow): Promise<void> {
    await this.dataSource.manager.insert(WebhookEntity, row);
  }

  find(id: string): Promise<WebhookRow | null> {
    return this.dataSource.manager.findOne(WebhookEntity, { where: { id } });
  }

  all(tx: EntityManager = this.dataSource.manager): Promise<WebhookRow[]> {
    return tx.find(WebhookEntity, { order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** Deletes the webhook and its deliveries (pending ones are not sent); false when there was none. */
  remove(id: string): Promise<boolean> {
    return inTransaction(this.dataSource, async (tx) => {
      await tx.delete(DeliveryEntity, { webhookId: id });
      return !!(await tx.delete(WebhookEntity, { id })).affected;
    });
  }

  /** Adds deliveries in the caller's transaction; one already there for its (webhook, notification) is kept as is. */
  async enqueue(tx: EntityManager, rows: DeliveryRow[]): Promise<void> {
    if (rows.length) await tx.createQueryBuilder().insert().into(DeliveryEntity).values(rows).orIgnore().execute();
  }

  deliveriesOf(webhookId: string, options: { status?: DeliveryStatus; limit: number }): Promise<DeliveryRow[]> {
    return this.dataSource.manager.find(DeliveryEntity, {
      where: { webhookId, ...(options.status ? { status: options.status } : {}) },
      order: { createdAt: 'DESC', id: 'ASC' },
      take: options.limit,
    });
  }

  /** Pending deliveries whose next attempt is due, oldest first. */
  due(now: number, limit: number): Promise<DeliveryRow[]> {
    return this.dataSource.manager.find(DeliveryEntity, {
      where: { status: 'pending', nextAttemptAt: LessThanOrEqual(now) },
      order: { nextAttemptAt: 'ASC' },
      take: limit,
    });
  }

  /**
   * Claims a due delivery for one attempt by moving its next attempt to the end of the lease,
   * on the condition that nobody moved it since it was read: of several instances exactly one
   * succeeds. An instance that dies during the attempt leaves it due again when the lease ends.
   */
  async claim(row: DeliveryRow, instance: string, leaseUntil: number): Promise<boolean> {
    const result = await this.dataSource.manager.update(
      DeliveryEntity,
      { id: row.id, status: 'pending', nextAttemptAt: row.nextAttemptAt! },
      { nextAttemptAt: leaseUntil, claimedBy: instance },
    );
    return !!result.affected;
  }

  async record(id: string, patch: Pick<DeliveryRow, 'status' | 'attempts' | 'statusCode' | 'lastError' | 'nextAttemptAt' | 'deliveredAt'>): Promise<void> {
    await this.dataSource.manager.update(DeliveryEntity, { id }, patch);
  }
}
