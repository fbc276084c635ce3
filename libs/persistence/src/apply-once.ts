import type { DataSource, EntityManager } from 'typeorm';
import { processedEventsSchema } from './processed-events';

const sqliteQueues = new WeakMap<DataSource, Promise<unknown>>();

/**
 * Runs `work` in a transaction. SQLite has one connection, so its transactions are queued
 * rather than nested; Postgres runs them concurrently.
 */
export function inTransaction<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  if (dataSource.options.type === 'postgres') return dataSource.transaction(work);
  const previous = sqliteQueues.get(dataSource) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(() => dataSource.transaction(work));
  sqliteQueues.set(dataSource, next);
  return next;
}

export type ApplyOnceResult<T> = { applied: true; result: T } | { applied: false };

/**
 * Applies an event's effect at most once per consumer: the effect and the processed
 * event id commit in one transaction, so a redelivered event is recognised and skipped.
 * Two concurrent deliveries race on the primary key; the loser rolls back and, retried,
 * sees the id.
 */
export function applyOnce<T>(
  dataSource: DataSource,
  service: string,
  consumer: string,
  eventId: string,
  effect: (manager: EntityManager) => Promise<T>,
): Promise<ApplyOnceResult<T>> {
  const schema = processedEventsSchema(service);
  return inTransaction(dataSource, async (manager) => {
    if (await manager.exists(schema, { where: { consumer, eventId } })) return { applied: false };
    await manager.insert(schema, { consumer, eventId, processedAt: new Date() });
    return { applied: true, result: await effect(manager) };
  });
}
