import { EntitySchema, type ValueTransformer } from 'typeorm';

/** Postgres returns BIGINT as a string; times are epoch ms that fit a double. */
const bigintNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? null : Number(value)),
};

export const LOOP_OUTCOMES = ['promoted', 'rolled_back', 'rejected_by_gate', 'failed'] as const;
export type LoopOutcome = (typeof LOOP_OUTCOMES)[number];
export const LOOP_STATUSES = ['open', 'closed'] as const;
export type LoopStatus = (typeof LOOP_STATUSES)[number];
/** What opened a loop. */
export const LOOP_TRIGGERS = ['drift', 'performance', 'schedule', 'new_data', 'manual'] as const;
export type LoopTrigger = (typeof LOOP_TRIGGERS)[number];

export interface LoopRow {
  /** The loop's id: the correlation id of the drift.detected that opened it. */
  correlationId: string;
  model: string;
  /**
   * The model while the loop is open, null once it ends. Unique: two drift events racing to
   * open a loop for one model cannot both commit (the loser retries and is debounced).
   */
  openModel: string | null;
  status: LoopStatus;
  outcome: LoopOutcome | null;
  outcomeReason: string | null;
  /** What opened the loop. */
  trigger: LoopTrigger;
  /** The drift or performance event that opened it; `schedule:<model>:<slot>` for a schedule slot. */
  triggerEventId: string;
  /** The version whose traffic drifted or degraded; null for a schedule or new data. */
  driftVersion: number | null;
  /** JSON string[] */
  driftedFeatures: string;
  featureView: string | null;
  /** The version registered from this loop's training. */
  candidateVersion: number | null;
  /** Set by model.registered, cleared by deployment.requested: the gate decision is pending. */
  awaitingGateSince: number | null;
  startedAt: number;
  endedAt: number | null;
  /** Time of the latest stage (for the stall timeout). */
  lastStageAt: number;
}

export interface StageRow {
  id?: number;
  correlationId: string;
  /** An event type, or `gate.rejected` when the rejection was inferred (the registry emits no event for it). */
  type: string;
  eventId: string | null;
  source: string;
  /** Event time, epoch ms. */
  at: number;
  /** JSON: the key facts of the event. */
  facts: string;
  /** A drift event recorded but not acted on (debounce or cooldown). */
  ignored: boolean;
  note: string | null;
}

export const LoopEntity = new EntitySchema<LoopRow>({
  name: 'LoopLoop',
  tableName: 'loop_loops',
  columns: {
    correlationId: { type: String, primary: true, length: 200, name: 'correlation_id' },
    model: { type: String, length: 200 },
    openModel: { type: String, length: 200, name: 'open_model', nullable: true },
    status: { type: String, length: 20 },
    outcome: { type: String, length: 30, nullable: true },
    outcomeReason: { type: 'text', name: 'outcome_reason', nullable: true },
    trigger: { type: String, length: 20, default: 'drift' },
    triggerEventId: { type: String, length: 200, name: 'trigger_event_id' },
    driftVersion: { type: Number, name: 'drift_version', nullable: true },
    driftedFeatures: { type: 'text', name: 'drifted_features' },
    featureView: { type: String, length: 200, name: 'feature_view', nullable: true },
    candidateVersion: { type: Number, name: 'candidate_version', nullable: true },
    awaitingGateSince: { type: 'bigint', name: 'awaiting_gate_since', nullable: true, transformer: bigintNumber },
    startedAt: { type: 'bigint', name: 'started_at', transformer: bigintNumber },
    endedAt: { type: 'bigint', name: 'ended_at', nullable: true, transformer: bigintNumber },
    lastStageAt: { type: 'bigint', name: 'last_stage_at', transformer: bigintNumber },
  },
});

export const StageEntity = new EntitySchema<StageRow>({
  name: 'LoopStage',
  tableName: 'loop_stages',
  columns: {
    id: { type: Number, primary: true, generated: 'increment' },
    correlationId: { type: String, length: 200, name: 'correlation_id' },
    type: { type: String, length: 100 },
    eventId: { type: String, length: 200, name: 'event_id', nullable: true },
    source: { type: String, length: 100 },
    at: { type: 'bigint', transformer: bigintNumber },
    facts: { type: 'text' },
    ignored: { type: Boolean },
    note: { type: 'text', nullable: true },
  },
});

/** The feature view a model retrains from, set at run time; LOOP_FEATURE_VIEWS is the default. */
export interface FeatureViewChoiceRow {
  model: string;
  featureView: string;
  /** Epoch ms. */
  updatedAt: number;
}

export const FeatureViewChoiceEntity = new EntitySchema<FeatureViewChoiceRow>({
  name: 'LoopFeatureView',
  tableName: 'loop_feature_views',
  columns: {
    model: { type: String, primary: true, length: 200 },
    featureView: { type: String, length: 200, name: 'feature_view' },
    updatedAt: { type: 'bigint', name: 'updated_at', transformer: bigintNumber },
  },
});

export const loopEntities = [LoopEntity, StageEntity, FeatureViewChoiceEntity];
