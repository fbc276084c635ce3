import { probit } from 'simple-statistics';
import type { PayloadInput } from '@mlops/contracts';
import { standardError } from '../performance/standard-error';
import type { ShadowAgreement } from './canaries';
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
  /** How sure the monitor must be that the shortfall exceeds the tolerance to roll back (0.5: on the point values alone). */
  confidence: number;
  /** A shadow's agreement with the champion on the same requests: the verdict is the shadow's, its reason says how often they agreed. */
  shadow?: ShadowAgreement;
}

/** canary.evaluated's shadow fields and the words its reason adds. */
function shadowPart(shadow: ShadowAgreement | undefined) {
  if (!shadow) return { fields: {}, note: '' };
  const share = shadow.compared > 0 ? shadow.agreed / shadow.compared : 0;
  const note = shadow.compared > 0 ? `; shadow agreed with the champion on ${round(share * 100)}% of ${shadow.compared} requests` : '; no request compared with the champion yet';
  return { fields: { strategy: 'shadow' as const, agreement: { compared: shadow.compared, share: round(share) } }, note };
}

const round = (x: number) => Number(x.toFixed(4));

/**
 * The canary verdict: with enough labels on both sides, the canary is rolled back when it is
 * worse than the champion by more than `tolerance` on the metric, beyond sampling error: the
 * lower `confidence` bound of the shortfall (normal approximation, the two sides' standard
 * errors combined) must exceed the tolerance. A canary short by no more than the tolerance is
 * then rolled back at most about 1 - confidence of the time, however few labels decide; the
 * price is that on few labels only a large shortfall is caught. Without enough labels it
 * is promoted on its predictions alone (nothing labels-based speaks against it), and the reason
 * says so.
 */
export function canaryVerdict(input: CanaryVerdictInput): PayloadInput<'canary.evaluated'> {
  const { model, version, championVersion, predictions, canary, champion, minLabels, tolerance, confidence } = input;
  const { fields, note } = shadowPart(input.shadow);
  const side = input.shadow ? 'shadow' : 'canary';
  const base = { model, version, championVersion, predictions, labels: canary.labels, ...fields };
  const kind = canary.kind ?? champion.kind;
  const enoughLabels = canary.labels >= minLabels && champion.labels >= minLabels;
  if (!enoughLabels || kind === undefined) {
    return {
      ...base,
      verdict: 'promote',
      reason: `promoted on predictions alone: ${predictions} predictions, labels ${canary.labels} (${side}) and ${champion.labels} (champion v${championVersion}) of the ${minLabels} each needed to compare${note}`,
    };
  }
  const metric = input.metric(kind);
  const canaryValue = canary.metric(metric);
  const championValue = champion.metric(metric);
  if (canaryValue === undefined || championValue === undefined) {
    return { ...base, verdict: 'promote', metric, reason: `promoted on predictions alone: ${metric} is not defined for these labels (${predictions} predictions)${note}` };
  }
  const shortfall = HIGHER_IS_BETTER[metric] ? championValue - canaryValue : canaryValue - championValue;
  const canaryError = standardError(canary, metric);
  const championError = standardError(champion, metric);
  const known = canaryError !== undefined && championError !== undefined;
  const bound = known ? shortfall - probit(confidence) * Math.hypot(canaryError, championError) : shortfall;
  const values = { metric, canaryValue, championValue, confidence, shortfallBound: round(bound) };
  const labels = `on ${canary.labels} and ${champion.labels} labels`;
  const certainty = known ? `at ${round(confidence * 100)}% confidence the shortfall is at least ${round(bound)}` : 'sampling error unknown for these stored labels';
  if (bound > tolerance) {
    return {
      ...base,
      ...values,
      verdict: 'rollback',
      reason: `${side} ${metric} ${round(canaryValue)} is worse than champion v${championVersion} ${round(championValue)} by ${round(shortfall)} (tolerance ${tolerance}) ${labels}; ${certainty}${note}`,
    };
  }
  return {
    ...base,
    ...values,
    verdict: 'promote',
    reason: `${side} ${metric} ${round(canaryValue)} vs champion v${championVersion} ${round(championValue)}: not worse by more than tolerance ${tolerance} ${labels}; ${certainty}${note}`,
  };
}
