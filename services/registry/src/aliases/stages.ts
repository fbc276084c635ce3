import { InvalidInputError } from '@mlops/errors';
import { CHALLENGER, CHAMPION } from '../registry.names';

/**
 * MLflow's (deprecated) stages on this registry's aliases: a version is in `Production` while
 * it is `champion` and in `Staging` while it is `challenger`; every other version is `None`.
 * A stage holds one version at a time, as an alias does.
 */
export const STAGE_ALIAS = { Production: CHAMPION, Staging: CHALLENGER } as const;
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
  if (aliases.includes(STAGE_ALIAS.Production)) return 'Production';
  if (aliases.includes(STAGE_ALIAS.Staging)) return 'Staging';
  return 'None';
}
