import { hostname } from 'node:os';
import { featureViewFor, type LoopConfig } from './loop.config';

/** What the loop's parts read from the config, grouped by use case; made once at start. */
export interface LoopSettings {
  /** The consumer group of every loop event. */
  consumer: { group: string };
  /** Opening loops on drift.detected. */
  drift: {
    /** The LOOP_FEATURE_VIEWS default of the feature view a model is retrained from (PUT /api/models/:model/feature-view overrides it). */
    featureViewFor(model: string): string | undefined;
    cooldownMs: number;
  };
  /** The retrain triggers: defaults for models without their own, the schedule's clock, the new-data sources. */
  triggers: {
    defaults: { drift: boolean; performance: boolean };
    scheduleTickMs: number;
    catchUpMs: number;
    /** The data source a feature view reads (LOOP_VIEW_SOURCES), undefined when not configured. */
    sourceOf(featureView: string): string | undefined;
    /** Who claims schedule slots (INSTANCE_ID, else host and pid). */
    instance: string;
  };
  /** The sweep that ends loops waiting in vain. */
  timeouts: { gateWaitMs: number; stallTimeoutMs: number; sweepIntervalMs: number };
  /** Where the registry's gate decisions are asked for (LOOP_REGISTRY_URL), with the platform's API_TOKEN. */
  registry: { url?: string; apiToken?: string };
  /** Webhook deliveries: retries with exponential backoff, the request timeout, the poll of due deliveries. */
  webhooks: { retryBaseMs: number; retryMaxMs: number; maxAttempts: number; timeoutMs: number; pollMs: number; secretKey?: string };
  /** Where PUT /api/models/:model/feature-view checks view names (LOOP_FEATURE_STORE_URL); unset: not checked. */
  featureStore: { url?: string; apiToken?: string };
}

/** Injection token of the LoopSettings. */
export const LOOP_SETTINGS = Symbol('LoopSettings');

/** Injection token of the clock (epoch ms); startLoop's `now` option, Date.now otherwise. */
export const LOOP_CLOCK = Symbol('LoopClock');
export type LoopClock = () => number;

/** Injection token of the loop's logger (log and warn are silent when startLoop is asked for no logs). */
export const LOOP_LOG = Symbol('LoopLog');
export interface LoopLog {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function loopSettings(config: LoopConfig): LoopSettings {
  return {
    consumer: { group: config.LOOP_GROUP },
    drift: {
      featureViewFor: (model) => featureViewFor(config.LOOP_FEATURE_VIEWS, model),
      cooldownMs: config.LOOP_COOLDOWN_S * 1000,
    },
    triggers: {
      defaults: { drift: config.LOOP_TRIGGER_DRIFT, performance: config.LOOP_TRIGGER_PERFORMANCE },
      scheduleTickMs: config.LOOP_SCHEDULE_TICK_MS,
      catchUpMs: config.LOOP_SCHEDULE_CATCH_UP_S * 1000,
      sourceOf: (featureView) => config.LOOP_VIEW_SOURCES[featureView],
      instance: config.INSTANCE_ID ?? `${hostname()}:${process.pid}`,
    },
    timeouts: {
      gateWaitMs: config.LOOP_GATE_WAIT_S * 1000,
      stallTimeoutMs: config.LOOP_STALL_TIMEOUT_S * 1000,
      sweepIntervalMs: config.LOOP_SWEEP_INTERVAL_MS,
    },
    registry: { url: config.LOOP_REGISTRY_URL, apiToken: config.API_TOKEN },
    featureStore: { url: config.LOOP_FEATURE_STORE_URL, apiToken: config.API_TOKEN },
    webhooks: {
      retryBaseMs: config.LOOP_WEBHOOK_RETRY_BASE_MS,
      retryMaxMs: config.LOOP_WEBHOOK_RETRY_MAX_MS,
      maxAttempts: config.LOOP_WEBHOOK_MAX_ATTEMPTS,
      timeoutMs: config.LOOP_WEBHOOK_TIMEOUT_MS,
      pollMs: config.LOOP_WEBHOOK_POLL_MS,
      secretKey: config.LOOP_WEBHOOK_SECRET_KEY,
    },
  };
}
