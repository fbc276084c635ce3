import { EntitySchema, type ValueTransformer } from 'typeorm';

/** Postgres returns BIGINT as a string; times are epoch ms that fit a double. */
const bigintNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? null : Number(value)),
};

/** A model's retrain triggers as set with PUT /api/triggers/:model (models without a row use the config's defaults). */
export interface TriggerRow {
  model: string;
  drift: boolean;
  performance: boolean;
  /** A cron expression (5 or 6 fields), null for no schedule. */
  schedule: string | null;
  /** When the schedule was set: slots before it are not due. */
  scheduleSince: number | null;
  /** Open a loop after this many validated rows of the model's feature view source, null for off. */
  newDataRows: number | null;
  updatedAt: number;
}

/** One slot of a model's schedule, claimed by the instance that handled it (unique per model and slot). */
export interface ScheduleSlotRow {
  model: string;
  /** The slot's time, epoch ms. */
  slot: number;
  /** `opened`, `ignored` (debounce, cooldown) or `skipped` (older than the catch-up window). */
  decision: string;
  /** The loop it opened, or the reason it did not. */
  note: string;
  claimedBy: string;
  claimedAt: number;
}

/** Validated rows of a model's feature view source counted since its last training dataset. */
export interface NewDataCountRow {
  model: string;
  rows: number;
  since: number;
}

export const TriggerEntity = new EntitySchema<TriggerRow>({
  name: 'LoopTrigger',
  tableName: 'loop_triggers',
  columns: {
    model: { type: String, primary: true, length: 200 },
    drift: { type: Boolean },
    performance: { type: Boolean },
    schedule: { type: String, length: 200, nullable: true },
    scheduleSince: { type: 'bigint', name: 'schedule_since', nullable: true, transformer: bigintNumber },
    newDataRows: { type: Number, name: 'new_data_rows', nullable: true },
    updatedAt: { type: 'bigint', name: 'updated_at', transformer: bigintNumber },
  },
});

export const ScheduleSlotEntity = new EntitySchema<ScheduleSlotRow>({
  name: 'LoopScheduleSlot',
  tableName: 'loop_schedule_slots',
  columns: {
    model: { type: String, primary: true, length: 200 },
    slot: { type: 'bigint', primary: true, transformer: bigintNumber },
    decision: { type: String, length: 20 },
    note: { type: 'text' },
    claimedBy: { type: String, length: 200, name: 'claimed_by' },
    claimedAt: { type: 'bigint', name: 'claimed_at', transformer: bigintNumber },
  },
});

export const NewDataCountEntity = new EntitySchema<NewDataCountRow>({
  name: 'LoopNewDataCount',
  tableName: 'loop_new_data',
  columns: {
    model: { type: String, primary: true, length: 200 },
    rows: { type: Number },
    since: { type: 'bigint', transformer: bigintNumber },
  },
});

export const triggerEntities = [TriggerEntity, ScheduleSlotEntity, NewDataCountEntity];
