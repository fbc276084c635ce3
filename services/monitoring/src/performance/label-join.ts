import { Inject, Injectable } from '@nestjs/common';
import type { EventEnvelope, RowOutputs } from '@mlops/contracts';
import { CanaryWatch, type CanaryComparison } from '../canary/canary-watch';
import { MonitoringMetrics } from '../metrics';
import { MONITORING_SETTINGS, type MonitoringSettings } from '../monitoring.settings';
import { CLOCK, MONITORING_LOG, type Clock, type MonitoringLog } from '../monitoring.tokens';
import { Cooldowns } from '../state/cooldowns';
import { Outbox } from '../state/outbox';
import { WriteLane } from '../state/write-lane';
import { MonitoringRepository } from '../store/monitoring.repository';
import { EarlyLabels } from './early-labels';
import { PendingPredictions, type PendingPrediction } from './pending-predictions';
import type { PerformanceAggregate } from './performance-aggregate';
import { outcomeOf, type PredictionOutcome } from './prediction-outcome';
import { VersionPerformance, type Degradation } from './version-performance';

const keyOf = (model: string, version: number) => `${model}\u0000${version}`;

interface JoinedLabel {
  event: EventEnvelope<'label.observed'>;
  prediction: PendingPrediction;
  /** A shadow's answer to the same request, if one was logged: it joins the same label. */
  shadow?: PendingPrediction;
}

/** A shadow and the champion gave the same prediction: the same class, or (regression) the same value to 6 significant digits. */
function agrees(a: PredictionOutcome, b: PredictionOutcome): boolean {
  if (a.kind === 'classification') return b.kind === 'classification' && a.predicted === b.predicted;
  return b.kind === 'regression' && Math.abs(a.value - b.value) <= 1e-6 * Math.max(1, Math.abs(a.value));
}

/** What a batch of labels changes, computed inside its transaction, applied in memory after it commits. */
interface FoldedLabels {
  performance: Map<string, PerformanceAggregate>;
  versions: Map<string, { model: string; version: number; counted: number }>;
  comparisons: Map<string, CanaryComparison>;
  degraded: Degradation[];
  /** Labels that do not fit their prediction's kind (counted as unmatched). */
  unfit: number;
}

/**
 * Late labels joined to the predictions waiting for them (in memory, bounded), each counted
 * once (applied once per event id) into the version's performance (performance.degraded,
 * through the outbox) and, while a canary runs, into the canary/champion comparison.
 */
@Injectable()
export class LabelJoin {
  readonly pending: PendingPredictions;
  /** Shadow answers waiting for the label of the request they copy (the same prediction ids). */
  readonly shadows: PendingPredictions;
  /** Labels that overtook their prediction (another topic), waiting for it. */
  readonly early: EarlyLabels;
  unmatchedLabels = 0;
  private readonly outputs: MonitoringSettings['labels']['outputs'];

  constructor(
    private readonly performance: VersionPerformance,
    private readonly canaries: CanaryWatch,
    private readonly cooldowns: Cooldowns,
    private readonly outbox: Outbox,
    private readonly store: MonitoringRepository,
    private readonly lane: WriteLane,
    private readonly metrics: MonitoringMetrics,
    @Inject(MONITORING_SETTINGS) settings: MonitoringSettings,
    @Inject(CLOCK) private readonly now: Clock,
    @Inject(MONITORING_LOG) private readonly log: MonitoringLog,
  ) {
    const { pendingMax, ttlMs, earlyWaitMs, outputs } = settings.labels;
    this.outputs = outputs;
    this.pending = new PendingPredictions({ max: pendingMax, ttlMs, now });
    this.shadows = new PendingPredictions({ max: pendingMax, ttlMs, now });
    this.early = new EarlyLabels({ max: pendingMax, ttlMs: earlyWaitMs, now, onExpired: () => metrics.labelsUnmatched.inc() });
    metrics.labelJoin = () => ({ pending: this.pending.size, evicted: this.pending.evictedUnlabelled });
  }

  /** A logged prediction waits for its label; a label that overtook it (another topic) joins now. */
  onPrediction(predictionId: string, model: string, version: number, outputs: RowOutputs, now: number): Promise<void> | undefined {
    const outcome = outcomeOf(outputs, this.outputs);
    if (outcome) this.pending.add(predictionId, { model, version, outcome, at: now });
    // Most predictions have no label waiting: no lookup while none is.
    const early = outcome && this.early.size > 0 ? this.early.take(predictionId) : undefined;
    return early ? this.onLabel(early) : undefined;
  }

  /**
   * A shadow's answer (prediction.logged `shadow`): compared with the champion's answer to the
   * same request when that is still waiting for its label, then waits for the same label. It
   * counts in no version's performance: only in the shadow's comparison with the champion.
   */
  onShadowPrediction(predictionId: string, model: string, version: number, outputs: RowOutputs, now: number): void {
    const outcome = outcomeOf(outputs, this.outputs);
    if (!outcome) return;
    const answered = this.pending.get(predictionId);
    if (answered?.model === model && answered.version !== version) this.canaries.onShadowAgreement(model, version, agrees(answered.outcome, outcome));
    this.shadows.add(predictionId, { model, version, outcome, at: now });
  }

  /** label.observed, one label (a label that waited for its prediction joins here). */
  onLabel(event: EventEnvelope<'label.observed'>): Promise<void> | undefined {
    return this.onLabels([event]);
  }

  /**
   * label.observed, a batch at a time: each label is joined by prediction id to a prediction
   * still waiting for it, then counted once (applied once per event id) into the version's
   * performance and, while a canary runs, into the canary/champion comparison. The batch's
   * processed ids and every aggregate it changes are written in one transaction.
   */
  onLabels(events: EventEnvelope<'label.observed'>[]): Promise<void> | undefined {
    const joined: JoinedLabel[] = [];
    // A second label for one prediction finds it taken, as it would one label later.
    const taken = new Set<string>();
    for (const event of events) {
      const { predictionId } = event.data;
      const prediction = taken.has(predictionId) ? undefined : this.pending.get(predictionId);
      if (!prediction && this.early.hold(event)) continue;
      if (!prediction || (event.data.model !== undefined && event.data.model !== prediction.model)) {
        this.unmatchedLabels++;
        this.metrics.labelsUnmatched.inc();
        continue;
      }
      taken.add(predictionId);
      const shadow = this.shadows.size > 0 ? this.shadows.get(predictionId) : undefined;
      joined.push({ event, prediction, ...(shadow?.model === prediction.model ? { shadow } : {}) });
    }
    if (joined.length === 0) return undefined;
    return this.lane.run(() => this.applyLabels(joined));
  }

  private async applyLabels(joined: JoinedLabel[]): Promise<void> {
    const now = this.now();
    const effect = await this.store.onceEach('labels', joined.map((j) => j.event.id), async (tx, fresh) => {
      const folded = this.foldLabels(joined.filter((j) => fresh.has(j.event.id)), now);
      for (const [key, aggregate] of folded.performance) {
        const { model, version } = folded.versions.get(key)!;
        await tx.savePerformance({ model, version, state: JSON.stringify(aggregate.state) });
      }
      await this.canaries.saveComparisons(tx, folded.comparisons);
      for (const degraded of folded.degraded) {
        await tx.saveCooldown({ key: degraded.cooldownKey, lastAt: now });
        await tx.enqueue(degraded.event, now);
      }
      return folded;
    });
    for (const { event, shadow } of joined) {
      this.pending.remove(event.data.predictionId);
      if (shadow) this.shadows.remove(event.data.predictionId);
    }
    if (effect.unfit > 0) {
      this.unmatchedLabels += effect.unfit;
      this.metrics.labelsUnmatched.inc(effect.unfit);
    }
    for (const [key, aggregate] of effect.performance) {
      const { model, version, counted } = effect.versions.get(key)!;
      if (counted > 0) this.metrics.labels.inc({ model, version: String(version) }, counted);
      this.performance.commit(model, version, aggregate);
    }
    this.canaries.applyComparisons(effect.comparisons);
    for (const degraded of effect.degraded) {
      const { model, version, metric, value, baseline } = degraded.event.data;
      this.cooldowns.record(degraded.cooldownKey, now);
      this.metrics.performanceDegraded.inc({ model, metric });
      this.log.warn(`performance degraded for ${model} v${version}: ${metric} ${value} vs baseline ${baseline}`);
    }
    if (effect.degraded.length > 0) await this.outbox.send(effect.degraded.map((d) => d.event));
    // A canary that had its predictions and was waiting for exactly these labels is decided now.
    await this.canaries.evaluateLabelled(effect.comparisons);
  }

  /**
   * Folds new labels, in order, into copies of the aggregates they change (nothing here is
   * changed until the transaction commits). As one label at a time would: a canary stops
   * taking labels into its comparison at the label that completes it (it is decided on
   * exactly those), and performance is checked after each label, once per cooldown.
   */
  private foldLabels(labels: JoinedLabel[], now: number): FoldedLabels {
    const folded: FoldedLabels = { performance: new Map(), versions: new Map(), comparisons: new Map(), degraded: [], unfit: 0 };
    const cooldowns = new Map<string, number>();
    for (const { event, prediction, shadow } of labels) {
      const { model, version, outcome } = prediction;
      const { label } = event.data;
      const key = keyOf(model, version);
      let next = folded.performance.get(key);
      if (!next) {
        next = (this.performance.of(model, version) ?? this.performance.aggregate()).clone();
        folded.performance.set(key, next);
        folded.versions.set(key, { model, version, counted: 0 });
      }
      if (!next.add(outcome, label)) {
        folded.unfit++;
        continue;
      }
      folded.versions.get(key)!.counted++;
      this.canaries.foldLabel(folded.comparisons, prediction, label);
      if (shadow) this.canaries.foldLabel(folded.comparisons, shadow, label);
      const degraded = this.performance.degradation(model, version, next, { performance: folded.performance, cooldowns });
      if (degraded) {
        cooldowns.set(degraded.cooldownKey, now);
        folded.degraded.push(degraded);
      }
    }
    return folded;
  }
}
