import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, type FindOptionsWhere } from 'typeorm';
import { applyOnce, inTransaction, type ApplyOnceResult } from '@mlops/persistence';
import { SERVICE } from '../loop.names';
import { LoopEntity, StageEntity, type LoopOutcome, type LoopRow, type LoopStatus, type LoopTrigger, type StageRow } from './entities';

/** The transaction a loop's changes commit in. */
export type LoopTx = EntityManager;

/** The consumer name the loop's processed event ids are kept under. */
const CONSUMER = 'loop.events';

export interface LoopFilter {
  model?: string;
  status?: LoopStatus;
  outcome?: LoopOutcome;
  trigger?: LoopTrigger;
  limit?: number;
}

/** How a loop ends: its outcome, why, and when (epoch ms). */
export interface LoopEnding {
  outcome: LoopOutcome;
  reason: string;
  at: number;
  /** A `failed` ending by the stall timeout (LOOP_STALL_TIMEOUT_S): notified as loop.stalled rather than loop.failed. */
  stalled?: boolean;
}

/** The loop_loops and loop_stages tables (and the loop's processed event ids). */
@Injectable()
export class LoopRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `effect` and records the event id in one transaction, unless the id was recorded before. */
  applyOnce<T>(eventId: string, effect: (tx: LoopTx) => Promise<T>): Promise<ApplyOnceResult<T>> {
    return applyOnce(this.dataSource, SERVICE, CONSUMER, eventId, effect);
  }

  transaction<T>(work: (tx: LoopTx) => Promise<T>): Promise<T> {
    return inTransaction(this.dataSource, work);
  }

  find(correlationId: string, tx: LoopTx = this.dataSource.manager): Promise<LoopRow | null> {
    return tx.findOne(LoopEntity, { where: { correlationId } });
  }

  exists(correlationId: string, tx: LoopTx): Promise<boolean> {
    return tx.exists(LoopEntity, { where: { correlationId } });
  }

  /** The loop a drift event opened. */
  findByTrigger(eventId: string): Promise<LoopRow | null> {
    return this.dataSource.getRepository(LoopEntity).findOne({ where: { triggerEventId: eventId } });
  }

  /** The model's open loop (at most one). */
  openOf(tx: LoopTx, model: string): Promise<LoopRow | null> {
    return tx.findOne(LoopEntity, { where: { openModel: model } });
  }

  /** The model's loop that ended last. */
  lastClosedOf(tx: LoopTx, model: string): Promise<LoopRow | null> {
    return tx.findOne(LoopEntity, { where: { model, status: 'closed' }, order: { endedAt: 'DESC' } });
  }

  async insert(tx: LoopTx, loop: LoopRow): Promise<void> {
    await tx.insert(LoopEntity, loop);
  }

  async update(tx: LoopTx, correlationId: string, patch: Partial<LoopRow>): Promise<void> {
    await tx.update(LoopEntity, { correlationId }, patch);
  }

  /** Changes the loop only while it is open. */
  async updateOpen(tx: LoopTx, correlationId: string, patch: Partial<LoopRow>): Promise<void> {
    await tx.update(LoopEntity, { correlationId, status: 'open' }, patch);
  }

  /** Closes the loop if it is open; false when it was already closed. */
  async close(tx: LoopTx, correlationId: string, ending: LoopEnding): Promise<boolean> {
    const result = await tx.update(
      LoopEntity,
      { correlationId, status: 'open' },
      { status: 'closed', outcome: ending.outcome, outcomeReason: ending.reason, endedAt: ending.at, openModel: null, awaitingGateSince: null },
    );
    return !!result.affected;
  }

  async insertStage(tx: LoopTx, stage: StageRow): Promise<void> {
    await tx.insert(StageEntity, stage);
  }

  hasStage(tx: LoopTx, correlationId: string, type: string): Promise<boolean> {
    return tx.exists(StageEntity, { where: { correlationId, type } });
  }

  /** The loop's stages in event time order (insertion order among equal times). */
  stagesOf(correlationId: string): Promise<StageRow[]> {
    return this.dataSource.getRepository(StageEntity).find({ where: { correlationId }, order: { at: 'ASC', id: 'ASC' } });
  }

  open(): Promise<LoopRow[]> {
    return this.dataSource.getRepository(LoopEntity).find({ where: { status: 'open' } });
  }

  /** The model of every open loop. */
  openModels(): Promise<Pick<LoopRow, 'model'>[]> {
    return this.dataSource.getRepository(LoopEntity).find({ where: { status: 'open' }, select: { model: true } });
  }

  /** Newest first. */
  list(filter: LoopFilter): Promise<LoopRow[]> {
    const where: FindOptionsWhere<LoopRow> = {};
    if (filter.model) where.model = filter.model;
    if (filter.status) where.status = filter.status;
    if (filter.outcome) where.outcome = filter.outcome;
    if (filter.trigger) where.trigger = filter.trigger;
    return this.dataSource.getRepository(LoopEntity).find({ where, order: { startedAt: 'DESC' }, take: filter.limit ?? 100 });
  }
}
