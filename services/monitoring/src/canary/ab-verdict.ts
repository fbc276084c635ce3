import { errorFunction } from 'simple-statistics';
import type { PayloadInput } from '@mlops/contracts';
import type { PerformanceAggregate } from '../performance/performance-aggregate';

/** The two-proportion z-test: z of `b` minus `a` (pooled standard error) and its two-sided p-value. */
export function twoProportionZTest(a: { successes: number; n: number }, b: { successes: number; n: number }): { z: number; pValue: number } {
  const pa = a.successes / a.n;
  const pb = b.successes / b.n;
  const pooled = (a.successes + b.successes) / (a.n + b.n);
  const error = Math.sqrt(pooled * (1 - pooled) * (1 / a.n + 1 / b.n));
  // Both sides all right or all wrong: no evidence of a difference.
  if (error === 0) return { z: 0, pValue: 1 };
  const z = (pb - pa) / error;
  // 2 * (1 - Phi(|z|)) = erfc(|z| / sqrt 2)
  return { z, pValue: Math.max(0, 1 - errorFunction(Math.abs(z) / Math.SQRT2)) };
}

export interface AbVerdictInput {
  model: string;
  version: number;
  championVersion: number;
  predictions: number;
  /** Labelled predictions of each side of the split (each has at least the labels the test asked for). */
  challenger: PerformanceAggregate;
  champion: PerformanceAggregate;
  /** Significance level: promote when the challenger is more accurate with p below it. */
  alpha: number;
}

const round = (x: number) => Number(x.toFixed(4));

/**
 * The A/B verdict on accuracy: after a fixed split and a fixed number of labels on each side,
 * a two-proportion z-test. The challenger is promoted only when it is more accurate and the
 * difference is significant (two-sided p < alpha); otherwise it is rolled back (worse, or not
 * shown better: the champion stays). The reason gives both accuracies, z, p and the
 * confidence (1 - p) with which the two differ. A regressor has no accuracy: rolled back, and
 * the reason says to use a canary.
 */
export function abVerdict(input: AbVerdictInput): PayloadInput<'canary.evaluated'> {
  const { model, version, championVersion, predictions, challenger, champion, alpha } = input;
  const base = { model, version, championVersion, predictions, labels: challenger.labels, strategy: 'ab' as const };
  const a = champion.metric('accuracy');
  const b = challenger.metric('accuracy');
  if ((challenger.kind ?? champion.kind) !== 'classification' || a === undefined || b === undefined) {
    return { ...base, verdict: 'rollback', reason: 'A/B test on accuracy needs a classifier: kept the champion; use a canary for a regressor' };
  }
  const { z, pValue } = twoProportionZTest({ successes: Math.round(a * champion.labels), n: champion.labels }, { successes: Math.round(b * challenger.labels), n: challenger.labels });
  const confidence = round(1 - pValue);
  const values = { metric: 'accuracy', canaryValue: round(b), championValue: round(a), zScore: round(z), pValue: round(pValue), confidence };
  const test = `on ${challenger.labels} and ${champion.labels} labels: z = ${round(z)}, p = ${round(pValue)} (two-proportion z-test, alpha ${alpha})`;
  const accuracies = `challenger accuracy ${round(b)} vs champion v${championVersion} ${round(a)}`;
  if (b > a && pValue < alpha) {
    return { ...base, ...values, verdict: 'promote', reason: `${accuracies}: better ${test}; different with ${round(confidence * 100)}% confidence` };
  }
  const why = b > a ? `not shown better ${test}` : b < a ? `worse ${test}` : `no better ${test}`;
  return { ...base, ...values, verdict: 'rollback', reason: `${accuracies}: ${why}; different with ${round(confidence * 100)}% confidence; the champion stays` };
}
