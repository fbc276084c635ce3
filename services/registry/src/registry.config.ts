import { z } from 'zod';
import { releasePolicySchema } from './policy/release-policy';
import { apiTokenEnvSchema, busEnvSchema, databaseEnvSchema, loadConfig, port, withBusDefault } from '@mlops/config';

const csv = z
  .string()
  .default('')
  .transform((value) => value.split(',').map((s) => s.trim()).filter(Boolean));

export const registryEnvSchema = z
  .object({
    REGISTRY_PORT: port(5100),
    REGISTRY_HOST: z.string().default('127.0.0.1'),
    /** Model artifacts, content-addressed by sha256, live under this root. */
    REGISTRY_ARTIFACT_ROOT: z.string().min(1).default('.mlops/registry'),
    REGISTRY_BODY_LIMIT: z.string().regex(/^\d+(kb|mb)$/, 'expected a size such as 512kb or 200mb').default('200mb'),
    /** The metric the quality gate compares candidate and champion on. */
    REGISTRY_GATE_METRIC: z.string().min(1).default('accuracy'),
    /** Metrics where lower is better, e.g. `log_loss,rmse`; all others are higher-is-better. */
    REGISTRY_LOWER_IS_BETTER: csv,
    /** How much worse than the champion a candidate may score and still pass. */
    REGISTRY_GATE_TOLERANCE: z.coerce.number().min(0).default(0),
    /**
     * The release policy every model starts from (JSON, the shape `PUT /models/:name/policy`
     * takes), e.g. {"latencyP99Ms": 50}; each part a model declares replaces the same part here.
     */
    REGISTRY_RELEASE_POLICY: z
      .string()
      .default('{}')
      .transform((text, ctx) => {
        try {
          return JSON.parse(text.trim() || '{}') as unknown;
        } catch {
          ctx.addIssue({ code: 'custom', message: 'expected a JSON object, e.g. {"latencyP99Ms": 50}' });
          return z.NEVER;
        }
      })
      .pipe(releasePolicySchema),
    /** A JSON file {inputs: number[][], labels: number[]}: both models are scored on it (accuracy). */
    REGISTRY_HOLDOUT_PATH: z.string().min(1).optional(),
    REGISTRY_CANARY_SHARE: z.coerce.number().min(0).max(1).default(0.1),
    /** Directories `model-versions/create` may read a `source` file from (none by default). */
    REGISTRY_IMPORT_ROOTS: csv,
    /**
     * The tracking server (http URL) that `runs:/`, `models:/<model_id>` and `mlflow-artifacts:/`
     * sources of model-versions/create are read from; without it such sources are refused.
     */
    REGISTRY_TRACKING_URI: z
      .string()
      .url()
      .regex(/^https?:\/\//, 'expected an http(s) URL such as http://127.0.0.1:5000')
      .transform((url) => url.replace(/\/+$/, ''))
      .optional(),
    REGISTRY_GROUP: z.string().min(1).default('registry'),
    INSTANCE_ID: z.string().min(1).optional(),
  })
  .and(databaseEnvSchema)
  .and(apiTokenEnvSchema)
  .and(busEnvSchema);

export type RegistryConfig = z.output<typeof registryEnvSchema>;

export function loadRegistryConfig(env: NodeJS.ProcessEnv = process.env): RegistryConfig {
  return loadConfig('registry', registryEnvSchema, withBusDefault({ DATABASE_URL: 'sqlite:.mlops/registry.db', ...env }));
}
