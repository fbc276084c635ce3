// Evidently-style per-feature test selection and a tumbling count-window drift detector.
import { FeatureWindow, type FeatureProfile, type ReferenceProfile, type Scalar } from './profile';
import { chiSquareFromCounts, jensenShannonDistance, ksTwoSample, psi, twoProportionZTest, wassersteinDistance } from './statistics';

export type DriftMethod = 'ks' | 'chisquare' | 'z' | 'wasserstein' | 'jensenshannon' | 'psi';

/** p-value tests drift when p < threshold; distances drift when score >= threshold. */
export const METHOD_KIND: Record<DriftMethod, 'p_value' | 'distance'> = {
  ks: 'p_value',
  chisquare: 'p_value',
  z: 'p_value',
  wasserstein: 'distance',
  jensenshannon: 'distance',
  psi: 'distance',
};

export const DEFAULT_THRESHOLDS: Record<DriftMethod, number> = {
  ks: 0.05,
  chisquare: 0.05,
  z: 0.05,
  wasserstein: 0.1,
  jensenshannon: 0.1,
  psi: 0.1,
};

/** Reference sizes up to this use the p-value tests (Evidently's small-reference rule). */
export const SMALL_REFERENCE_ROWS = 1000;

/** The smallest reference std the Wasserstein distance is divided by (Evidently's floor). */
export const WASSERSTEIN_MIN_NORM = 0.001;

export interface FeatureOverride {
  method?: DriftMethod;
  threshold?: number;
  /** Leave the feature out of drift detection. */
  ignore?: boolean;
}

/**
 * Distinct non-null values of the reference and the current window together (Evidently's
 * `pd.concat([reference, current]).nunique()`). Without a window: the reference's own count.
 * Only exact while it matters: a numeric column keeps category counts up to 50 distinct
 * values, and above 5 the answer no longer changes the test.
 */
function distinctTogether(profile: FeatureProfile, current?: ReadonlyMap<string, number>): number {
  if (!current || !profile.categories || (profile.kind === 'numeric' && profile.distinct > 5)) return profile.distinct;
  let extra = 0;
  for (const key of current.keys()) if (!profile.categories.has(key)) extra++;
  return profile.distinct + extra;
}

/**
 * Evidently's default test (`_get_default_stattest`, evidently 0.7.23), picked from the
 * distinct values of the reference and the current window together: reference <= 1000 rows →
 * KS for numeric columns with more than 5 distinct values, else chi-squared (more than 2
 * values) or the z-test; larger references → normalised Wasserstein for such numeric columns,
 * else Jensen-Shannon. So a 5-value integer column whose window brings a sixth value is tested
 * with KS (Wasserstein), not chi-squared. Without `current`: the test for a window that brings
 * no value the reference lacks.
 */
export function defaultMethod(profile: FeatureProfile, current?: ReadonlyMap<string, number>): DriftMethod {
  const distinct = distinctTogether(profile, current);
  const numeric = profile.kind === 'numeric' && distinct > 5;
  if (profile.count <= SMALL_REFERENCE_ROWS) {
    if (numeric) return 'ks';
    return distinct > 2 ? 'chisquare' : 'z';
  }
  return numeric ? 'wasserstein' : 'jensenshannon';
}

export interface FeatureDrift {
  feature: string;
  statistic: DriftMethod;
  /** The p-value for p-value tests, the score for distances. */
  value: number;
  threshold: number;
  drifted: boolean;
  /** False when the value comes from a sample of the window/reference rather than all of it. */
  exact: boolean;
}

export interface DriftReport {
  rows: number;
  features: FeatureDrift[];
  datasetDrift: { share: number; threshold: number; drifted: boolean };
}

function alignedCounts(reference: Map<string, number>, current: Map<string, number>): { keys: string[]; ref: number[]; cur: number[] } {
  const keys = [...new Set([...reference.keys(), ...current.keys()])].sort();
  return { keys, ref: keys.map((k) => reference.get(k) ?? 0), cur: keys.map((k) => current.get(k) ?? 0) };
}

function categoriesOf(profile: FeatureProfile, feature: string, method: DriftMethod): Map<string, number> {
  if (!profile.categories) {
    throw new Error(`feature "${feature}": ${method} needs category counts, but the column has too many distinct values`);
  }
  return profile.categories;
}

/** Score of one feature's window against its reference with the given method. */
export function evaluateFeature(
  feature: string,
  window: FeatureWindow,
  method: DriftMethod,
  threshold: number,
): FeatureDrift {
  const profile = window.profile;
  let value: number;
  let exact = true;
  switch (method) {
    case 'ks':
    case 'wasserstein': {
      if (profile.kind !== 'numeric') throw new Error(`feature "${feature}": ${method} needs a numeric column`);
      const current = window.sortedSample();
      exact = profile.sampleIsExact && window.sampleIsExact;
      if (method === 'ks') {
        const result = ksTwoSample(profile.sorted, current);
        value = result.pValue;
        exact &&= result.exact;
      } else {
        // Evidently divides by the reference's std, but by no less than 0.001
        value = wassersteinDistance(profile.sorted, current) / Math.max(profile.std, WASSERSTEIN_MIN_NORM);
      }
      break;
    }
    case 'psi': {
      if (profile.kind === 'numeric') value = psi(profile.binCounts, window.binCounts);
      else {
        const { ref, cur } = alignedCounts(profile.categories, window.categories);
        value = psi(ref, cur);
      }
      break;
    }
    case 'jensenshannon': {
      if (profile.kind === 'numeric' && !profile.categories) value = jensenShannonDistance(profile.binCounts, window.binCounts);
      else {
        const { ref, cur } = alignedCounts(categoriesOf(profile, feature, method), window.categories);
        value = jensenShannonDistance(ref, cur);
      }
      break;
    }
    case 'chisquare': {
      const { ref, cur } = alignedCounts(categoriesOf(profile, feature, method), window.categories);
      value = chiSquareFromCounts(ref, cur).pValue;
      break;
    }
    case 'z': {
      const reference = categoriesOf(profile, feature, method);
      const { keys, ref, cur } = alignedCounts(reference, window.categories);
      const target = [...reference.keys()].sort()[0];
      const i = keys.indexOf(target);
      const single = keys.length === 1;
      value = single ? 1 : twoProportionZTest(ref[i], profile.count, cur[i], window.count).pValue;
      break;
    }
  }
  return { feature, statistic: method, value, threshold, drifted: isDrift(method, value, threshold), exact };
}

/** Evidently's verdicts: KS drifts at p <= threshold, the other p-value tests at p < threshold, distances at >= threshold. */
export function isDrift(method: DriftMethod, value: number, threshold: number): boolean {
  if (method === 'ks') return value <= threshold;
  return METHOD_KIND[method] === 'p_value' ? value < threshold : value >= threshold;
}

export interface DetectorOptions {
  /** Rows per tumbling window. Default 500. */
  windowSize?: number;
  /** Dataset drift when the share of drifted features is at least this. Default 0.5. */
  datasetDriftShare?: number;
  overrides?: Record<string, FeatureOverride>;
  /** Window sample buffer per numeric feature; default = windowSize (KS/Wasserstein exact). */
  sampleCapacity?: number;
  random?: () => number;
}

/**
 * Drift over tumbling count windows against a fixed reference profile. `add` is O(features)
 * per row (O(1) per value); when the window is full it evaluates every feature, resets the
 * window and returns the report.
 */
export class DriftDetector {
  readonly windowSize: number;
  readonly datasetDriftShare: number;
  private readonly windows = new Map<string, FeatureWindow>();
  /** The windows' features and windows as arrays: the per-row loop of add() runs on these. */
  private readonly featureList: string[] = [];
  private readonly windowList: FeatureWindow[] = [];
  /** Per feature: the test the reference alone picks, its threshold, and what an override fixed. */
  private readonly methods = new Map<string, { method: DriftMethod; threshold: number; fixedMethod?: DriftMethod; fixedThreshold?: number }>();
  private rows = 0;

  constructor(
    readonly reference: ReferenceProfile,
    options: DetectorOptions = {},
  ) {
    this.windowSize = options.windowSize ?? 500;
    this.datasetDriftShare = options.datasetDriftShare ?? 0.5;
    const capacity = options.sampleCapacity ?? this.windowSize;
    for (const [feature, profile] of Object.entries(reference.features)) {
      const override = options.overrides?.[feature];
      if (override?.ignore) continue;
      const method = override?.method ?? defaultMethod(profile);
      validateMethod(feature, profile, method);
      this.methods.set(feature, {
        method,
        threshold: override?.threshold ?? DEFAULT_THRESHOLDS[method],
        fixedMethod: override?.method,
        fixedThreshold: override?.threshold,
      });
      const window = new FeatureWindow(profile, capacity, options.random);
      this.windows.set(feature, window);
      this.featureList.push(feature);
      this.windowList.push(window);
    }
    for (const feature of Object.keys(options.overrides ?? {})) {
      if (!(feature in reference.features)) throw new Error(`override for unknown feature "${feature}"`);
    }
  }

  /**
   * The test and threshold of each feature for a window that brings no value the reference
   * lacks. Without an override the test is picked again for each window from the values of
   * both (see defaultMethod); each report names the test it used.
   */
  plan(): Record<string, { method: DriftMethod; threshold: number }> {
    return Object.fromEntries([...this.methods].map(([feature, { method, threshold }]) => [feature, { method, threshold }]));
  }

  get pending(): number {
    return this.rows;
  }

  add(row: Record<string, Scalar>): DriftReport | undefined {
    const features = this.featureList;
    for (let k = 0; k < features.length; k++) this.windowList[k].add(row[features[k]]);
    this.rows++;
    if (this.rows < this.windowSize) return undefined;
    const report = this.evaluate();
    this.reset();
    return report;
  }

  /** Evaluates the current (possibly partial) window without resetting it. */
  evaluate(): DriftReport {
    const features: FeatureDrift[] = [];
    for (const [feature, window] of this.windows) {
      if (window.count === 0) continue;
      const { fixedMethod, fixedThreshold } = this.methods.get(feature)!;
      const method = fixedMethod ?? defaultMethod(window.profile, window.categories);
      features.push(evaluateFeature(feature, window, method, fixedThreshold ?? DEFAULT_THRESHOLDS[method]));
    }
    const drifted = features.filter((f) => f.drifted).length;
    const share = features.length ? drifted / features.length : 0;
    return {
      rows: this.rows,
      features,
      datasetDrift: { share, threshold: this.datasetDriftShare, drifted: features.length > 0 && share >= this.datasetDriftShare },
    };
  }

  reset(): void {
    this.rows = 0;
    for (const window of this.windows.values()) window.reset();
  }
}

function validateMethod(feature: string, profile: FeatureProfile, method: DriftMethod): void {
  if (!(method in METHOD_KIND)) throw new Error(`feature "${feature}": unknown method "${method}"`);
  if ((method === 'ks' || method === 'wasserstein') && profile.kind !== 'numeric') {
    throw new Error(`feature "${feature}": ${method} needs a numeric column`);
  }
  if ((method === 'chisquare' || method === 'z') && !profile.categories) {
    throw new Error(`feature "${feature}": ${method} needs a column with few distinct values`);
  }
}
