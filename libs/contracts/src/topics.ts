/** Every event type is published on the topic of the same name. */
export const EVENT_TYPES = [
  'data.validated',
  'data.rejected',
  'retrain.requested',
  'dataset.materialized',
  'training.started',
  'training.completed',
  'training.failed',
  'run.finished',
  'model.registered',
  'model.promoted',
  'model.rolled_back',
  'deployment.requested',
  'deployment.completed',
  'prediction.logged',
  'label.observed',
  'drift.detected',
  'performance.degraded',
  'canary.evaluated',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export const RAW_TOPIC_PREFIX = 'raw.';
export const DLQ_SUFFIX = '.dlq';

const SOURCE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,99}$/;

/** Raw records from any producer for one data source land on `raw.<source>`. */
export function rawTopic(source: string): string {
  if (!SOURCE_NAME.test(source)) {
    throw new Error(`source name "${source}" must match ${SOURCE_NAME} (letters, digits, _ and -)`);
  }
  return `${RAW_TOPIC_PREFIX}${source}`;
}

export function sourceOfRawTopic(topic: string): string | undefined {
  return topic.startsWith(RAW_TOPIC_PREFIX) ? topic.slice(RAW_TOPIC_PREFIX.length) : undefined;
}

/** Poison messages of a topic go to `<topic>.dlq` with the error in their headers. */
export function dlqTopic(topic: string): string {
  return `${topic}${DLQ_SUFFIX}`;
}

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}
