import type { PayloadInput } from '@mlops/contracts';
import { HIGHER_IS_BETTER, type PerformanceAggregate, type PerformanceMetric } from '../performance/performance-aggregate';

export interface CanaryVerdictInput {
  model: string;
  version: number;
  championVersion: number;
  predictions: number;
  /** Labelled predictions of each version while the canary ran. */
  canary: PerformanceAggregate;
  champion: PerformanceAggregate;
  metric: (kind: 'classification' | 'regression') => PerformanceMetric;
  minLabels: number;
  tolerance: number;
}

const round = (x: number) => Number(x.toFixed(4));

/**
 * The canary verdict: with enough labels on both sides, the canary may not be worse than
 * the champion by more than `tolerance` on the metric; without them it is promoted on its
 * predictions alone (nothing labels-based speaks against it), and the reason says so.
 */
export function canaryVerdict(input: CanaryVerdictInput): PayloadInput<'canary.evaluated'> {
  const { model, version, championVersion, predictions, canary, champion, minLabels, tolerance } = input;
  const base = { model, version, championVersion, predictions, labels: canary.labels };
  const kind = canary.kind ?? champion.kind;
  const enoughLabels = canary.labels >= minLabels && champion.labels >= minLabels;
  if (!enoughLabels || kind === undefined) {
    return {
      ...base,
      verdict: 'promote',
      reason: `promoted on predictions alone: ${predictions} predictions, labels ${canary.labels} (canary) and ${champion.labels} (champion v${championVersion}) of the ${minLabels} each needed to compare`,
    };
  }
  const metric = input.metric(kind);
  const canaryValue = canary.metric(metric);
  const championValue = champion.metric(metric);
  if (canaryValue === undefined || championValue === undefined) {
    return { ...base, verdict: 'promote', metric, reason: `promoted on predictions alone: ${metric} is not defined for these labels (${predictions} predictions)` };
  }
  const shortfall = HIGHER_IS_BETTER[metric] ? championValue - canaryValue : canaryValue - championValue;
  const values = { metric, canaryValue, championValue };
  if (shortfall > tolerance) {
    return {
      ...base,
      ...values,
      verdict: 'rollback',
      reason: `canary ${metric} ${round(canaryValue)} is worse than champion v${championVersion} ${round(championValue)} by ${round(shortfall)} (tolerance ${tolerance}) on ${canary.labels} and ${champion.labels} labels`,
    };
  }
  return {
    ...base,
    ...values,
    verdict: 'promote',
    reason: `canary ${metric} ${round(canaryValue)} vs champion v${championVersion} ${round(championValue)}: within tolerance ${tolerance} on ${canary.labels} and ${champion.labels} labels`,
  };
}
