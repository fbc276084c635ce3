import { z } from 'zod';
import { apiTokenEnvSchema, busEnvSchema, loadConfig, port, withBusDefault } from '@mlops/config';

export const trainerEnvSchema = z
  .object({
    TRAINER_PORT: port(3005),
    TRAINER_HOST: z.string().default('127.0.0.1'),
    /** Jobs write <root>/<model>/<jobId>/{model.onnx,metrics.json}. */
    TRAINER_ARTIFACT_ROOT: z.string().min(1).default('.mlops/models'),
    /**
     * Where POST /jobs finds a dataset named by reference: the feature store's
     * FEATURE_STORE_ARTIFACT_ROOT (<root>/<view>/v<version>/manifest.json), on a shared disk.
     */
    TRAINER_DATASET_ROOT: z.string().min(1).default('.mlops/datasets'),
    /**
     * The target column: one name for every model (`label`), or per model
     * (`churn:churned,fraud:is_fraud`, with an optional bare default among them).
     */
    TRAINER_TARGET: z.string().min(1).default('label'),
    /** An external trainer, e.g. `python train.py`; unset means the built-in TS trainer. */
    TRAINER_COMMAND: z.string().min(1).optional(),
    TRAINER_COMMAND_TIMEOUT_MS: z.coerce.number().int().positive().default(30 * 60_000),
    /** Jobs that train at the same time; the rest wait in the queue (<artifact root>/.jobs). */
    TRAINER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
    /**
     * Default hyperparameters (JSON object) for the built-in trainer, e.g. {"epochs":500} or
     * {"algorithm":"mlp","hiddenLayers":[32,16]}; a job's own params override them.
     */
    TRAINER_PARAMS: z
      .string()
      .default('{}')
      .transform((s, ctx) => {
        try {
          const v = JSON.parse(s) as unknown;
          if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
        } catch {
          /* reported below */
        }
        ctx.addIssue({ code: 'custom', message: 'expected a JSON object, e.g. {"epochs":500}' });
        return z.NEVER;
      }),
    TRAINER_GROUP: z.string().min(1).default('trainer'),
    /** MLflow-compatible tracking server (our tracking service or MLflow); unset: no runs are logged. */
    TRACKING_URI: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL such as http://127.0.0.1:5000' }).optional(),
    CODE_VERSION: z.string().min(1).default('dev'),
    INSTANCE_ID: z.string().min(1).optional(),
  })
  .and(apiTokenEnvSchema)
  .and(busEnvSchema);

export type TrainerConfig = z.output<typeof trainerEnvSchema>;

export function loadTrainerConfig(env: NodeJS.ProcessEnv = process.env): TrainerConfig {
  return loadConfig('trainer', trainerEnvSchema, withBusDefault(env));
}

/** The target column of a model from TRAINER_TARGET. */
export function targetFor(spec: string, model: string): string {
  const parts = spec.split(',').map((p) => p.trim()).filter(Boolean);
  const fallback = parts.find((p) => !p.includes(':'));
  const own = parts.map((p) => p.split(':')).find(([m]) => m === model);
  return own?.[1] ?? fallback ?? 'label';
}
