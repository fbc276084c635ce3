import { Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { processedEventsSchema } from '@mlops/persistence';
import { SERVICE } from '../loop.names';
import type { LoopTx } from './loop.repository';
import { NewDataCountEntity, ScheduleSlotEntity, TriggerEntity, type NewDataCountRow, type ScheduleSlotRow, type TriggerRow } from './trigger.entities';

/** Ids per statement (Postgres takes at most 65,535 parameters a statement). */
const CHUNK = 1000;

/** The loop_triggers, loop_schedule_slots and loop_new_data tables. */
@Injectable()
export class TriggersRepository {
  constructor(private readonly dataSource: DataSource) {}

  find(model: string, tx: LoopTx = this.dataSource.manager): Promise<TriggerRow | null> {
    return tx.findOne(TriggerEntity, { where: { model } });
  }

  all(): Promise<TriggerRow[]> {
    return this.dataSource.getRepository(TriggerEntity).find({ order: { model: 'ASC' } });
  }

  async save(tx: LoopTx, row: TriggerRow): Promise<void> {
    await tx.upsert(TriggerEntity, row, ['model']);
  }

  /** Inserts the claim of a slot; a second claim of one (model, slot) fails on the primary key. */
  async claimSlot(tx: LoopTx, row: ScheduleSlotRow): Promise<void> {
    await tx.insert(ScheduleSlotEntity, row);
  }

  async updateSlot(tx: LoopTx, model: string, slot: number, patch: Pick<ScheduleSlotRow, 'decision' | 'note'>): Promise<void> {
    await tx.update(ScheduleSlotEntity, { model, slot }, patch);
  }

  findSlot(model: string, slot: number): Promise<ScheduleSlotRow | null> {
    return this.dataSource.getRepository(ScheduleSlotEntity).findOne({ where: { model, slot } });
  }

  slotsOf(model: string): Promise<ScheduleSlotRow[]> {
    return this.dataSource.getRepository(ScheduleSlotEntity).find({ where: { model }, order: { slot: 'DESC' }, take: 20 });
  }

  /** Which of these event ids the consumer has counted before. */
  async countedAlready(tx: LoopTx, consumer: string, ids: string[]): Promise<Set<string>> {
    const schema = processedEventsSchema(SERVICE);
    const seen = new Set<string>();
    for (let i = 0; i < ids.length; i += CHUNK) {
      const rows = await tx.find(schema, { where: { consumer, eventId: In(ids.slice(i, i + CHUNK)) }, select: { eventId: true } });
      for (const row of rows) seen.add(row.eventId);
    }
    return seen;
  }

  /** Records event ids as counted by the consumer (in the transaction that counts them). */
  async markCounted(tx: LoopTx, consumer: string, ids: string[]): Promise<void> {
    const schema = processedEventsSchema(SERVICE);
    const processedAt = new Date();
    for (let i = 0; i < ids.length; i += CHUNK) {
      await tx.insert(schema, ids.slice(i, i + CHUNK).map((eventId) => ({ consumer, eventId, processedAt })));
    }
  }

  counts(tx: LoopTx, models: string[]): Promise<NewDataCountRow[]> {
    return tx.find(NewDataCountEntity, { where: { model: In(models) } });
  }

  count(model: string): Promise<NewDataCountRow | null> {
    return this.dataSource.getRepository(NewDataCountEntity).findOne({ where: { model } });
  }

  /** Adds rows to the model's count (a row from `since` when it has none); returns the new count. */
  async addRows(tx: LoopTx, model: string, added: number, since: number): Promise<number> {
    await tx.createQueryBuilder().insert().into(NewDataCountEntity).values({ model, rows: 0, since }).orIgnore().execute();
    await tx.increment(NewDataCountEntity, { model }, 'rows', added);
    return (await tx.findOneOrFail(NewDataCountEntity, { where: { model } })).rows;
  }

  async saveCount(tx: LoopTx, row: NewDataCountRow): Promise<void> {
    await tx.upsert(NewDataCountEntity, row, ['model']);
  }
}
