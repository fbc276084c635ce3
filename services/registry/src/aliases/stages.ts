import { InvalidInputError } from '@mlops/errors';
import { CHALLENGER, CHAMPION } from '../registry.names';

/**
 * MLflow's (deprecated) stages on this registry's aliases: a version is in `Production` while
 * it is `champion` and in `Staging` while it is `challenger`; every other version is `None`.
 * A stage holds one version at a time, as an alias does. A version serving cannot run (no
 * ONNX model) is put in `Production` for MLflow clients only, under PRODUCTION_ONLY_ALIAS:
 * `models:/<name>/Production` loads it, but it is not the champion and nothing is deployed.
 */
export const STAGE_ALIAS = { Production: CHAMPION, Staging: CHALLENGER } as const;
export const PRODUCTION_ONLY_ALIAS = 'mlflow-production';
export const STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;
export type Stage = (typeof STAGES)[number];

/** A stage from a request, in any case (MLflow accepts `production`). */
export function validStage(value: unknown, field = 'stage'): Stage {
  const found = STAGES.find((s) => typeof value === 'string' && s.toLowerCase() === value.toLowerCase());
  if (!found) throw InvalidInputError.of([{ field, message: `invalid stage ${JSON.stringify(value)}: expected one of ${STAGES.join(', ')}` }]);
  return found;
}

/** The stage a version is in, from its aliases. */
export function stageOf(aliases: string[]): Stage {
  if (aliases.includes(STAGE_ALIAS.Production) || aliases.includes(PRODUCTION_ONLY_ALIAS)) return 'Production';
  if (aliases.includes(STAGE_ALIAS.Staging)) return 'Staging';
  return 'None';
}
