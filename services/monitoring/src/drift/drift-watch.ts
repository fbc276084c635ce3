import { z } from 'zod';
import { createEvent, issuesOf, type ContractIssue, type EventEnvelope } from '@mlops/contracts';
import { buildReferenceProfile, DriftDetector, METHOD_KIND, type DriftMethod, type DriftReport, type FeatureOverride, type Scalar } from '@mlops/drift';
import type { MonitoringMetrics } from './metrics';

export class NotFound extends Error {
  override name = 'NotFound';
}

export class InvalidRequest extends Error {
  constructor(readonly issues: ContractIssue[]) {
    super(issues.map((i) => `${i.field || '(body)'}: ${i.message}`).join('; '));
    this.name = 'InvalidRequest';
  }
}

const scalar = z.union([z.number(), z.string(), z.boolean(), z.null()]);
const methods = Object.keys(METHOD_KIND) as [DriftMethod, ...DriftMethod[]];

export const referenceBodySchema = z
  .object({
    rows: z.array(z.record(z.string(), scalar)).min(1).optional(),
    columns: z.record(z.string(), z.array(scalar).min(1)).optional(),
    /** Per-feature test/threshold overrides; default tests follow Evidently. */
    features: z
      .record(z.string(), z.object({ method: z.enum(methods).optional(), threshold: z.number().positive().optional(), ignore: z.boolean().optional() }))
      .optional(),
    datasetDriftShare: z.number().gt(0).max(1).optional(),
  })
  .refine((b) => (b.rows === undefined) !== (b.columns === undefined), { message: 'give exactly one of rows or columns' });

export type ReferenceBody = z.input<typeof referenceBodySchema>;

export interface WindowResult {
  model: string;
  version: number;
  window: { start: string; end: string; size: number };
  evaluatedAt: string;
  report: DriftReport;
  /** True when this window produced a drift.detected event. */
  published: boolean;
  /** Dataset drift held, but the model was still in its cooldown. */
  suppressedByCooldown: boolean;
}

interface VersionState {
  model: string;
  version: number;
  detector?: DriftDetector;
  referenceRows: number;
  referenceSource?: ReferenceSource;
  learning: Record<string, Scalar>[];
  windowStart?: string;
  windowEnd?: string;
  windows: number;
}

export type ReferenceSource = 'http' | 'first-predictions' | 'training-dataset';

export interface MonitoringOptions {
  windowSize: number;
  cooldownSeconds: number;
  datasetDriftShare: number;
  /** 0: reference only via setReference; N: learn it from the first N predictions of a version. */
  referenceFromFirst: number;
  now?: () => number;
  /** Called when a version learned its reference from its first predictions (to store it). */
  onReferenceLearned?: (model: string, version: number, body: ReferenceBody) => void;
}

/**
 * Drift monitoring state in memory: per model version a reference profile and a tumbling
 * count window; per model a cooldown so one drift episode publishes one drift.detected.
 */
export class MonitoringService {
  private readonly versions = new Map<string, VersionState>();
  private readonly lastPublished = new Map<string, number>();
  private readonly lastResult = new Map<string, WindowResult>();
  private readonly now: () => number;

  constructor(
    private readonly options: MonitoringOptions,
    private readonly metrics: MonitoringMetrics,
  ) {
    this.now = options.now ?? Date.now;
  }

  private state(model: string, version: number): VersionState {
    const key = `${model}\u0000${version}`;
    let state = this.versions.get(key);
    if (!state) {
      state = { model, version, referenceRows: 0, learning: [], windows: 0 };
      this.versions.set(key, state);
    }
    return state;
  }

  /**
   * Sets (replaces) the reference of a model version; a pending window starts over.
   * Returns the description and the validated body (what a store keeps to rebuild it).
   */
  setReference(model: string, version: number, body: unknown, source: ReferenceSource = 'http') {
    const parsed = referenceBodySchema.safeParse(body);
    if (!parsed.success) throw new InvalidRequest(issuesOf(parsed.error));
    const { rows, columns, features, datasetDriftShare } = parsed.data;
    const state = this.state(model, version);
    try {
      const data = rows ? { rows } : { columns: columns! };
      this.install(state, data, features, datasetDriftShare);
    } catch (error) {
      throw new InvalidRequest([{ field: '', message: (error as Error).message }]);
    }
    state.referenceSource = source;
    return { ...this.describe(state), body: parsed.data as ReferenceBody };
  }

  hasReference(model: string, version: number): boolean {
    return this.versions.get(`${model}\u0000${version}`)?.detector !== undefined;
  }

  /** Restores a stored drift cooldown (after a restart). */
  restoreCooldown(model: string, lastPublishedAt: number): void {
    this.lastPublished.set(model, lastPublishedAt);
  }

  private install(
    state: VersionState,
    data: { rows: Record<string, Scalar>[] } | { columns: Record<string, Scalar[]> },
    overrides?: Record<string, FeatureOverride>,
    datasetDriftShare?: number,
  ): void {
    const reference = buildReferenceProfile(data);
    state.detector = new DriftDetector(reference, {
      windowSize: this.options.windowSize,
      datasetDriftShare: datasetDriftShare ?? this.options.datasetDriftShare,
      overrides,
    });
    state.referenceRows = reference.rows;
    state.learning = [];
    state.windowStart = undefined;
  }

  reference(model: string, version: number) {
    const state = this.versions.get(`${model}\u0000${version}`);
    if (!state?.detector) throw new NotFound(`model ${model} version ${version} has no reference`);
    return this.describe(state);
  }

  private describe(state: VersionState) {
    return {
      model: state.model,
      version: state.version,
      referenceRows: state.referenceRows,
      referenceSource: state.referenceSource,
      windowSize: state.detector!.windowSize,
      pending: state.detector!.pending,
      windows: state.windows,
      tests: state.detector!.plan(),
    };
  }

  /** Applies one prediction; returns the drift.detected event to publish, if any. */
  onPrediction(event: EventEnvelope<'prediction.logged'>): EventEnvelope<'drift.detected'> | undefined {
    const { model, version, inputs } = event.data;
    const state = this.state(model, version);
    this.metrics.predictions.inc({ model, version: String(version) });
    if (!state.detector) {
      if (this.options.referenceFromFirst > 0) {
        state.learning.push(inputs);
        if (state.learning.length >= this.options.referenceFromFirst) {
          const learned = { rows: state.learning };
          this.install(state, learned);
          state.referenceSource = 'first-predictions';
          this.options.onReferenceLearned?.(model, version, learned);
        }
      }
      return undefined;
    }
    state.windowStart ??= event.time;
    state.windowEnd = event.time;
    const report = state.detector.add(inputs);
    if (!report) return undefined;
    const window = { start: state.windowStart, end: state.windowEnd, size: report.rows };
    state.windowStart = undefined;
    state.windows++;
    return this.onWindow(state, window, report);
  }

  private onWindow(state: VersionState, window: WindowResult['window'], report: DriftReport) {
    const { model, version } = state;
    const v = String(version);
    this.metrics.windows.inc({ model, version: v, dataset_drift: String(report.datasetDrift.drifted) });
    this.metrics.driftShare.set({ model, version: v }, report.datasetDrift.share);
    for (const f of report.features) {
      this.metrics.featureScore.set({ model, version: v, feature: f.feature, statistic: f.statistic }, f.value);
      this.metrics.featureDrifted.set({ model, version: v, feature: f.feature }, f.drifted ? 1 : 0);
    }
    const now = this.now();
    const last = this.lastPublished.get(model);
    const cooling = last !== undefined && now - last < this.options.cooldownSeconds * 1000;
    const publish = report.datasetDrift.drifted && !cooling;
    this.lastResult.set(model, {
      model,
      version,
      window,
      evaluatedAt: new Date(now).toISOString(),
      report,
      published: publish,
      suppressedByCooldown: report.datasetDrift.drifted && cooling,
    });
    if (!publish) return undefined;
    this.lastPublished.set(model, now);
    this.metrics.driftEvents.inc({ model });
    return createEvent('drift.detected', {
      source: 'monitoring',
      subject: model,
      data: {
        model,
        version,
        window,
        datasetDrift: { share: report.datasetDrift.share, threshold: report.datasetDrift.threshold },
        // JSON has no Infinity: an unseen category gives a chi-squared p of 0, a distance may be infinite
        features: report.features.map(({ feature, statistic, value, threshold, drifted }) => ({
          feature,
          statistic,
          value: Number.isFinite(value) ? value : Number.MAX_VALUE,
          threshold,
          drifted,
        })),
      },
    });
  }

  /** The last evaluated window of the model (any version). */
  drift(model: string): WindowResult {
    const result = this.lastResult.get(model);
    if (!result) throw new NotFound(`no drift window evaluated yet for model ${model}`);
    return result;
  }
}
