import { z } from 'zod';
import { apiTokenEnvSchema, busEnvSchema, databaseEnvSchema, loadConfig, port, withBusDefault } from '@mlops/config';

/** `model:view,model2:view2`, with an optional bare default view among them. */
const featureViews = z
  .string()
  .default('')
  .transform((value, ctx) => {
    const mapping: { byModel: Record<string, string>; fallback?: string } = { byModel: {} };
    for (const part of value.split(',').map((p) => p.trim()).filter(Boolean)) {
      const pieces = part.split(':').map((p) => p.trim());
      if (pieces.length === 1 && pieces[0]) mapping.fallback = pieces[0];
      else if (pieces.length === 2 && pieces[0] && pieces[1]) mapping.byModel[pieces[0]] = pieces[1];
      else ctx.addIssue({ code: 'custom', message: `"${part}": expected model:featureView or a bare default featureView` });
    }
    return mapping;
  });

/** `view:source,view2:source2`: the data source each feature view reads (for the new-data trigger). */
const viewSources = z
  .string()
  .default('')
  .transform((value, ctx) => {
    const mapping: Record<string, string> = {};
    for (const part of value.split(',').map((p) => p.trim()).filter(Boolean)) {
      const [view, source, ...rest] = part.split(':').map((p) => p.trim());
      if (view && source && rest.length === 0) mapping[view] = source;
      else ctx.addIssue({ code: 'custom', message: `"${part}": expected featureView:source` });
    }
    return mapping;
  });

const flag = (fallback: boolean) => z.stringbool({ error: 'expected true or false' }).default(fallback);

export const loopEnvSchema = z
  .object({
    LOOP_PORT: port(3008),
    LOOP_HOST: z.string().default('127.0.0.1'),
    /** The feature view each model is retrained from, e.g. `churn:churn_features,fraud:tx_features`. */
    LOOP_FEATURE_VIEWS: featureViews,
    /** After a loop of a model ends, its drift events are recorded as ignored for this long. */
    LOOP_COOLDOWN_S: z.coerce.number().nonnegative().default(600),
    /**
     * Fallback for a model.registered that carries no gate decision: a loop whose
     * model.registered is followed by no deployment.requested for this long ends rejected_by_gate.
     */
    LOOP_GATE_WAIT_S: z.coerce.number().positive().default(60),
    /** When set, the registry's gate decision (GET /models/:m/versions/:v/gate) ends such a loop at once, with the gate's reason. */
    LOOP_REGISTRY_URL: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL such as http://127.0.0.1:5100' }).optional(),
    /** When set, PUT /api/models/:model/feature-view refuses a view the feature store (GET /feature-views) does not define. */
    LOOP_FEATURE_STORE_URL: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL such as http://127.0.0.1:3002' }).optional(),
    /** An open loop with no new stage for this long ends failed (so one lost event cannot block retraining forever). */
    LOOP_STALL_TIMEOUT_S: z.coerce.number().positive().default(3600),
    /** How often open loops are checked for the two timeouts above. */
    LOOP_SWEEP_INTERVAL_MS: z.coerce.number().int().positive().default(1000),
    /** Whether drift.detected opens a loop for a model with no triggers of its own (PUT /api/triggers/:model). */
    LOOP_TRIGGER_DRIFT: flag(true),
    /** Whether performance.degraded opens a loop for a model with no triggers of its own. */
    LOOP_TRIGGER_PERFORMANCE: flag(true),
    /** How often the schedules are checked for a due slot. */
    LOOP_SCHEDULE_TICK_MS: z.coerce.number().int().positive().default(10_000),
    /** A slot missed while no loop controller ran still fires at start if it is at most this old; an older one is skipped (and logged). */
    LOOP_SCHEDULE_CATCH_UP_S: z.coerce.number().nonnegative().default(3600),
    /** The data source each feature view reads, e.g. `churn_features:churn`: the new-data trigger counts its data.validated rows. */
    LOOP_VIEW_SOURCES: viewSources,
    /** The first retry of a failed webhook delivery waits this long; each next one twice as long. */
    LOOP_WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().positive().default(5000),
    /** No wait between two attempts of a webhook delivery is longer than this (the doubling stops here). */
    LOOP_WEBHOOK_RETRY_MAX_MS: z.coerce.number().int().positive().default(3_600_000),
    /** Attempts of one webhook delivery (the first included) before it is given up as failed. */
    LOOP_WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(30).default(8),
    /** A webhook request with no answer for this long counts as failed. */
    LOOP_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
    /** How often due webhook deliveries are looked for. */
    LOOP_WEBHOOK_POLL_MS: z.coerce.number().int().positive().default(1000),
    /** Encrypts webhook secrets at rest (AES-256-GCM under a key derived from this); unset: they are stored as given. */
    LOOP_WEBHOOK_SECRET_KEY: z.string().min(16, 'expected at least 16 characters (the key webhook secrets are encrypted under)').optional(),
    LOOP_GROUP: z.string().min(1).default('loop'),
    INSTANCE_ID: z.string().min(1).optional(),
  })
  .and(apiTokenEnvSchema)
  .and(databaseEnvSchema)
  .and(busEnvSchema);

export type LoopConfig = z.output<typeof loopEnvSchema>;

export function loadLoopConfig(env: NodeJS.ProcessEnv = process.env): LoopConfig {
  return loadConfig('loop', loopEnvSchema, withBusDefault({ DATABASE_URL: 'sqlite:.mlops/loop.db', ...env }));
}

/** The feature view a model is retrained from, undefined when the mapping names none. */
export function featureViewFor(mapping: LoopConfig['LOOP_FEATURE_VIEWS'], model: string): string | undefined {
  return mapping.byModel[model] ?? mapping.fallback;
}
