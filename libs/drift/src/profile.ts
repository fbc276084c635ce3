// Reference profiles (computed once per model version) and live windows (O(1) per value).
import { binIndex, meanStd, quantileEdges } from './statistics';

export type Scalar = number | string | boolean | null;

export interface ProfileOptions {
  /** Quantile bins of the reference for the live histogram (PSI, binned JS). Default 10. */
  bins?: number;
  /**
   * Reference values kept for the sample-based tests (KS, Wasserstein). Larger references
   * keep this many evenly spaced order statistics of the sorted reference (ECDF error at
   * most 1/maxSample); below it the whole sample is kept and the tests are exact.
   * Default 100,000.
   */
  maxSample?: number;
  /** Numeric columns with at most this many distinct values also keep category counts. Default 50. */
  maxCategoriesForNumeric?: number;
}

export interface NumericProfile {
  kind: 'numeric';
  /** Non-null reference rows of this feature (the chooser looks at the reference size). */
  count: number;
  distinct: number;
  mean: number;
  std: number;
  /** Ascending reference sample (all values up to maxSample; else evenly spaced order statistics). */
  sorted: Float64Array;
  sampleIsExact: boolean;
  /** Inner bin edges at reference quantiles; bins = edges.length + 1. */
  edges: number[];
  binCounts: number[];
  /** Category counts keyed by String(value) when the column has few distinct values. */
  categories?: Map<string, number>;
}

export interface CategoricalProfile {
  kind: 'categorical';
  count: number;
  distinct: number;
  categories: Map<string, number>;
}

export type FeatureProfile = NumericProfile | CategoricalProfile;

export interface ReferenceProfile {
  /** Reference rows (including rows where some features are null). */
  rows: number;
  features: Record<string, FeatureProfile>;
}

const isMissing = (v: unknown): boolean => v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v));

export const categoryKey = (v: Scalar): string => String(v);

/** Profile of one column: numeric if every non-null value is a finite number, else categorical. */
export function profileColumn(values: readonly unknown[], options: ProfileOptions = {}): FeatureProfile {
  const present = values.filter((v) => !isMissing(v)) as Scalar[];
  if (present.length === 0) throw new Error('column has no non-null values');
  if (present.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    return profileNumeric(present as number[], options);
  }
  const categories = new Map<string, number>();
  for (const v of present) categories.set(categoryKey(v), (categories.get(categoryKey(v)) ?? 0) + 1);
  return { kind: 'categorical', count: present.length, distinct: categories.size, categories };
}

function profileNumeric(values: number[], options: ProfileOptions): NumericProfile {
  const bins = options.bins ?? 10;
  const maxSample = options.maxSample ?? 100_000;
  const all = Float64Array.from(values).sort();
  let distinct = all.length ? 1 : 0;
  for (let k = 1; k < all.length; k++) if (all[k] !== all[k - 1]) distinct++;
  const { mean, std } = meanStd(all);
  const edges = quantileEdges(all, bins);
  const binCounts = new Array<number>(edges.length + 1).fill(0);
  for (const v of all) binCounts[binIndex(edges, v)]++;
  let sorted = all;
  if (all.length > maxSample) {
    sorted = new Float64Array(maxSample);
    for (let k = 0; k < maxSample; k++) sorted[k] = all[Math.floor(((k + 0.5) * all.length) / maxSample)];
  }
  const profile: NumericProfile = {
    kind: 'numeric',
    count: all.length,
    distinct,
    mean,
    std,
    sorted,
    sampleIsExact: sorted === all,
    edges,
    binCounts,
  };
  if (distinct <= (options.maxCategoriesForNumeric ?? 50)) {
    const categories = new Map<string, number>();
    for (const v of all) categories.set(categoryKey(v), (categories.get(categoryKey(v)) ?? 0) + 1);
    profile.categories = categories;
  }
  return profile;
}

/** Builds the reference profile of every column from rows or from column arrays. */
export function buildReferenceProfile(
  data: { rows: Record<string, Scalar>[] } | { columns: Record<string, Scalar[]> },
  options: ProfileOptions & { features?: readonly string[] } = {},
): ReferenceProfile {
  let columns: Record<string, Scalar[]>;
  let rows: number;
  if ('rows' in data) {
    rows = data.rows.length;
    const names = options.features ?? [...new Set(data.rows.flatMap((r) => Object.keys(r)))];
    columns = Object.fromEntries(names.map((n) => [n, data.rows.map((r) => r[n] ?? null)]));
  } else {
    const lengths = new Set(Object.values(data.columns).map((c) => c.length));
    if (lengths.size > 1) throw new Error('columns must all have the same length');
    rows = [...lengths][0] ?? 0;
    columns = options.features ? Object.fromEntries(options.features.map((n) => [n, data.columns[n] ?? []])) : data.columns;
  }
  const features: Record<string, FeatureProfile> = {};
  for (const [name, values] of Object.entries(columns)) {
    try {
      features[name] = profileColumn(values, options);
    } catch (error) {
      throw new Error(`feature "${name}": ${(error as Error).message}`);
    }
  }
  return { rows, features };
}

/**
 * The live values of one feature in the current tumbling window.
 *
 * Per value: O(1) — a write into a bounded sample buffer (reservoir sampling, Algorithm R,
 * once `capacity` is reached), a binary search over the ~10 reference quantile edges, and a
 * category-count increment. With capacity >= window size (the default) the buffer holds the
 * whole window, so KS and Wasserstein on it are exact; a larger window makes them tests on a
 * uniform sample of the window (approximate). Histogram and category counts are always exact.
 */
export class FeatureWindow {
  count = 0;
  missing = 0;
  private sample: Float64Array;
  private filled = 0;
  readonly binCounts: number[];
  readonly categories = new Map<string, number>();

  constructor(
    readonly profile: FeatureProfile,
    capacity: number,
    private readonly random: () => number = Math.random,
  ) {
    this.sample = profile.kind === 'numeric' ? new Float64Array(capacity) : new Float64Array(0);
    this.binCounts = profile.kind === 'numeric' ? new Array<number>(profile.edges.length + 1).fill(0) : [];
  }

  add(value: unknown): void {
    if (isMissing(value)) {
      this.missing++;
      return;
    }
    const profile = this.profile;
    if (profile.kind === 'numeric' && typeof value === 'number') {
      this.count++;
      if (this.filled < this.sample.length) this.sample[this.filled++] = value;
      else {
        const slot = Math.floor(this.random() * this.count);
        if (slot < this.sample.length) this.sample[slot] = value;
      }
      this.binCounts[binIndex(profile.edges, value)]++;
      if (profile.categories) {
        const key = categoryKey(value);
        this.categories.set(key, (this.categories.get(key) ?? 0) + 1);
      }
      return;
    }
    // categorical feature, or a non-number arriving at a numeric feature (counted as a category)
    this.count++;
    const key = categoryKey(value as Scalar);
    this.categories.set(key, (this.categories.get(key) ?? 0) + 1);
  }

  /** Ascending copy of the buffered window sample. */
  sortedSample(): Float64Array {
    return this.sample.slice(0, this.filled).sort();
  }

  /** Whether the sample holds every numeric value of the window. */
  get sampleIsExact(): boolean {
    return this.filled === this.count;
  }

  reset(): void {
    this.count = 0;
    this.missing = 0;
    this.filled = 0;
    this.binCounts.fill(0);
    this.categories.clear();
  }
}
