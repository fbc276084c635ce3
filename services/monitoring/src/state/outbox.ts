import { Inject, Injectable } from '@nestjs/common';
import { EventBus } from '@mlops/bus';
import type { AnyEvent } from '@mlops/contracts';
import { CLOCK, MONITORING_LOG, type Clock, type MonitoringLog } from '../monitoring.tokens';
import { MonitoringRepository, type StoreTransaction } from '../store/monitoring.repository';

/**
 * Decided events (drift.detected, performance.degraded, canary.evaluated) are stored with the
 * decision in an outbox, then published and taken off it: a restart neither loses nor
 * repeats them.
 */
@Injectable()
export class Outbox {
  constructor(
    private readonly store: MonitoringRepository,
    private readonly bus: EventBus,
    @Inject(CLOCK) private readonly now: Clock,
    @Inject(MONITORING_LOG) private readonly log: MonitoringLog,
  ) {}

  /** Stores a decision with its events in the outbox, then publishes them. */
  async decide(effect: (tx: StoreTransaction) => Promise<unknown>, events: AnyEvent[]): Promise<void> {
    const now = this.now();
    await this.store.transaction(async (tx) => {
      await effect(tx);
      for (const event of events) await tx.enqueue(event, now);
    });
    await this.send(events);
  }

  /** Publishes decided events, then takes them off the outbox; a failure leaves them for a retry. */
  async send(events: AnyEvent[]): Promise<void> {
    for (const event of events) {
      try {
        await this.bus.publish(event);
        await this.store.published(event.id);
      } catch (error) {
        this.log.error(`${event.type} ${event.id} not published yet (kept in the outbox, retried in 5 s): ${(error as Error).message}`);
        setTimeout(() => void this.send([event]), 5_000).unref();
      }
    }
  }
}
