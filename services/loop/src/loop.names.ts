import type { EventType } from '@mlops/contracts';

/** The service's name: its table prefix and the source of the events it publishes. */
export const SERVICE = 'loop';

/** A stage the loop infers: the registry's gate rejected the candidate (no event says so). */
export const GATE_REJECTED = 'gate.rejected';

/** Every event type that is a stage of a loop. */
export const LOOP_EVENT_TYPES = [
  'drift.detected',
  'performance.degraded',
  'retrain.requested',
  'dataset.materialized',
  'training.started',
  'training.completed',
  'training.failed',
  'model.registered',
  'deployment.requested',
  'deployment.completed',
  'canary.evaluated',
  'model.promoted',
  'model.rolled_back',
] as const satisfies readonly EventType[];

export type LoopEventType = (typeof LOOP_EVENT_TYPES)[number];
