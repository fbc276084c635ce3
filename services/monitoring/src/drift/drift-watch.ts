import { Inject, Injectable } from '@nestjs/common';
import { createEvent, issuesOf, type EventEnvelope } from '@mlops/contracts';
import { buildReferenceProfile, DriftDetector, type DriftReport, type FeatureOverride, type Scalar } from '@mlops/drift';
import { NotFoundError } from '@mlops/errors';
import { invalidRequest } from '../invalid-request';
import { MonitoringMetrics } from '../metrics';
import { MONITORING_SETTINGS, type MonitoringSettings } from '../monitoring.settings';
import { CLOCK, MONITORING_LOG, type Clock, type MonitoringLog } from '../monitoring.tokens';
import { Cooldowns } from '../state/cooldowns';
import { Outbox } from '../state/outbox';
import { WriteLane } from '../state/write-lane';
import type { LoggedRows } from '../predictions/logged-rows';
import { referenceBodySchema, type ReferenceBody, type ReferenceSource } from './reference-body';

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
  /** The reference's features were checked against the keys of the version's logged rows. */
  keysChecked?: boolean;
  windowStart?: string;
  windowEnd?: string;
  windows: number;
}

/** What one event's predictions changed in the drift windows. */
export interface DriftObservation {
  /** The drift.detected events to publish (see `publish`), one per window that drifted. */
  drifts?: EventEnvelope<'drift.detected'>[];
  /** The windows evaluated (to keep in the drift history). */
  windows?: WindowResult[];
  /** The reference the version just learned from its first predictions (to store). */
  learned?: ReferenceBody;
}

/** The usual outcome (shared: the per-prediction path allocates nothing for it). */
const NOTHING: DriftObservation = Object.freeze({});

/**
 * Drift monitoring state in memory: per model version a reference profile and a tumbling
 * count window; per model a cooldown (Cooldowns) so one drift episode publishes one
 * drift.detected.
 */
@Injectable()
export class DriftWatch {
  private readonly versions = new Map<string, VersionState>();
  private readonly lastResult = new Map<string, WindowResult>();
  private readonly options: MonitoringSettings['drift'];

  constructor(
    @Inject(MONITORING_SETTINGS) settings: MonitoringSettings,
    private readonly metrics: MonitoringMetrics,
    private readonly cooldowns: Cooldowns,
    private readonly lane: WriteLane,
    private readonly outbox: Outbox,
    @Inject(CLOCK) private readonly now: Clock,
    @Inject(MONITORING_LOG) private readonly log: MonitoringLog,
  ) {
    this.options = settings.drift;
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
    if (!parsed.success) throw invalidRequest(issuesOf(parsed.error));
    const { rows, columns, features, datasetDriftShare } = parsed.data;
    const state = this.state(model, version);
    try {
      const data = rows ? { rows } : { columns: columns! };
      this.install(state, data, features, datasetDriftShare);
    } catch (error) {
      throw invalidRequest([{ field: '', message: (error as Error).message }]);
    }
    state.referenceSource = source;
    return { ...this.describe(state), body: parsed.data as ReferenceBody };
  }

  hasReference(model: string, version: number): boolean {
    return this.versions.get(`${model}\u0000${version}`)?.detector !== undefined;
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
    state.keysChecked = false;
    state.learning = [];
    state.windowStart = undefined;
  }

  reference(model: string, version: number) {
    const state = this.versions.get(`${model}\u0000${version}`);
    if (!state?.detector) throw new NotFoundError(`model ${model} version ${version} has no reference`);
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

  /**
   * Applies an event's predictions, row by row, to their version's window (O(1) per row
   * until the window is full): a batch can fill (and so close) more than one window.
   */
  onPredictions(rows: LoggedRows, time: string): DriftObservation {
    const { model, version } = rows;
    const state = this.state(model, version);
    this.metrics.predictions.inc({ model, version: String(version) }, rows.length);
    if (state.detector && !state.keysChecked && rows.length > 0) this.checkKeys(state, rows.inputs(0));
    let observation = NOTHING;
    for (let k = 0; k < rows.length; k++) {
      const { drift, window, learned } = this.onRow(state, time, rows.inputs(k));
      if (!window && !learned) continue;
      if (observation === NOTHING) observation = {};
      if (learned) observation.learned = learned;
      if (window) (observation.windows ??= []).push(window);
      if (drift) (observation.drifts ??= []).push(drift);
    }
    return observation;
  }

  /**
   * Once per reference: a reference keyed otherwise than the logged rows (feature names
   * against a model logged by position, or the reverse) would see every value as missing.
   */
  private checkKeys(state: VersionState, row: Record<string, Scalar>): void {
    state.keysChecked = true;
    const missing = Object.keys(state.detector!.reference.features).filter((f) => !(f in row));
    if (missing.length === 0) return;
    this.log.warn(
      `drift reference of ${state.model} v${state.version} has features the logged predictions lack (${missing.join(', ')}; they log ${Object.keys(row).join(', ')}): those count as missing values; set a reference keyed like them (PUT /models/${state.model}/versions/${state.version}/reference)`,
    );
  }

  private onRow(state: VersionState, time: string, inputs: Record<string, Scalar>): { drift?: EventEnvelope<'drift.detected'>; window?: WindowResult; learned?: ReferenceBody } {
    if (!state.detector) {
      if (this.options.referenceFromFirst > 0) {
        // A copy: a v2 event's row view refills one object per row.
        state.learning.push({ ...inputs });
        if (state.learning.length >= this.options.referenceFromFirst) {
          const learned = { rows: state.learning };
          this.install(state, learned);
          state.referenceSource = 'first-predictions';
          return { learned };
        }
      }
      return NOTHING;
    }
    state.windowStart ??= time;
    state.windowEnd = time;
    const report = state.detector.add(inputs);
    if (!report) return NOTHING;
    const window = { start: state.windowStart, end: state.windowEnd, size: report.rows };
    state.windowStart = undefined;
    state.windows++;
    return this.onWindow(state, window, report);
  }

  private onWindow(state: VersionState, window: WindowResult['window'], report: DriftReport): { drift?: EventEnvelope<'drift.detected'>; window: WindowResult } {
    const { model, version } = state;
    const v = String(version);
    this.metrics.windows.inc({ model, version: v, dataset_drift: String(report.datasetDrift.drifted) });
    this.metrics.driftShare.set({ model, version: v }, report.datasetDrift.share);
    for (const f of report.features) {
      this.metrics.featureScore.set({ model, version: v, feature: f.feature, statistic: f.statistic }, f.value);
      this.metrics.featureDrifted.set({ model, version: v, feature: f.feature }, f.drifted ? 1 : 0);
    }
    const now = this.now();
    const cooling = this.cooldowns.cooling(Cooldowns.drift(model), now);
    const publish = report.datasetDrift.drifted && !cooling;
    const result: WindowResult = {
      model,
      version,
      window,
      evaluatedAt: new Date(now).toISOString(),
      report,
      published: publish,
      suppressedByCooldown: report.datasetDrift.drifted && cooling,
    };
    this.lastResult.set(model, result);
    if (!publish) return { window: result };
    this.cooldowns.record(Cooldowns.drift(model), now);
    this.metrics.driftEvents.inc({ model });
    const drift = createEvent('drift.detected', {
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
    return { drift, window: result };
  }

  /** Stores the model's drift cooldown (from `now`) with the drift.detected in the outbox, then publishes it. */
  publish(drift: EventEnvelope<'drift.detected'>, now: number): Promise<void> {
    const { model, version } = drift.data;
    const stored = this.lane.run(() => this.outbox.decide((tx) => tx.saveCooldown({ key: Cooldowns.drift(model), lastAt: now }), [drift]));
    this.log.warn(`drift detected for ${model} v${version}: ${drift.data.features.filter((f) => f.drifted).map((f) => f.feature).join(', ')}`);
    return stored;
  }

  /** The last window of the model (any version) this process evaluated; kept windows survive a restart in the history. */
  drift(model: string): WindowResult {
    const result = this.lastResult.get(model);
    if (!result) {
      throw new NotFoundError(
        `no drift window evaluated for model ${model} since this monitor started; windows evaluated before are in GET /monitoring/models/${model}/drift/history`,
      );
    }
    return result;
  }
}
