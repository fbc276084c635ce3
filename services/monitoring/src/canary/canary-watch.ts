import { Inject, Injectable } from '@nestjs/common';
import { v5 as uuidv5 } from 'uuid';
import { causedBy, type EventEnvelope, type EventOf } from '@mlops/contracts';
import { MonitoringMetrics } from '../metrics';
import { MONITORING_SETTINGS, type MonitoringSettings } from '../monitoring.settings';
import { CLOCK, MONITORING_LOG, type Clock, type MonitoringLog } from '../monitoring.tokens';
import type { PendingPrediction } from '../performance/pending-predictions';
import type { PerformanceAggregate } from '../performance/performance-aggregate';
import { VersionPerformance } from '../performance/version-performance';
import { ReferenceResolver } from '../references/reference-resolver';
import { Outbox } from '../state/outbox';
import { WriteLane } from '../state/write-lane';
import type { CanaryRow } from '../store/entities';
import { MonitoringRepository, type StoreTransaction } from '../store/monitoring.repository';
import { Canaries, type LiveCanary } from './canaries';
import { CanaryCountFlush } from './canary-count-flush';
import { abVerdict } from './ab-verdict';
import { canaryVerdict } from './canary-verdict';
import { Champions } from './champions';

/** Namespace of the deterministic canary.evaluated ids (one verdict per deployment event). */
const VERDICT_NAMESPACE = '5b0c7a52-31f1-4a5e-9d0e-6c1f1d0b7e21';

/** What a batch of labels adds to a model's canary/champion comparison, before it commits. */
export interface CanaryComparison {
  live: LiveCanary;
  canary: PerformanceAggregate;
  champion: PerformanceAggregate;
  complete: boolean;
}

/**
 * The canary of each model: started by a partial-traffic (or shadow) deployment of a version
 * that is not the champion, compared with the champion on the labels of the same traffic
 * period (a shadow also on its agreement with the champion's answers to the same requests), and
 * decided once (canary.evaluated, through the outbox) when it has its predictions; ended by
 * a newer canary or a champion change.
 */
@Injectable()
export class CanaryWatch {
  private readonly options: MonitoringSettings['canary'];

  constructor(
    private readonly canaries: Canaries,
    private readonly champions: Champions,
    private readonly references: ReferenceResolver,
    private readonly performance: VersionPerformance,
    private readonly flush: CanaryCountFlush,
    private readonly store: MonitoringRepository,
    private readonly lane: WriteLane,
    private readonly outbox: Outbox,
    private readonly metrics: MonitoringMetrics,
    @Inject(MONITORING_SETTINGS) settings: MonitoringSettings,
    @Inject(CLOCK) private readonly now: Clock,
    @Inject(MONITORING_LOG) private readonly log: MonitoringLog,
  ) {
    this.options = settings.canary;
  }

  /**
   * deployment.completed (serving): the version gets a reference from its training dataset
   * (unless it has one), and a partial-traffic version that is not the champion starts a
   * canary against the champion. A model without a champion has no canary.
   */
  onDeployment(event: EventEnvelope<'deployment.completed'>): Promise<void> | undefined {
    const { model, version, status, trafficShare, strategy } = event.data;
    if (status !== 'serving') return undefined;
    const shadow = strategy === 'shadow';
    const ab = strategy === 'ab' ? { labels: event.data.abLabels ?? this.options.abLabels } : undefined;
    return this.lane.run(async () => {
      const champion = this.champions.of(model);
      const previous = this.canaries.row(model, version);
      const startsCanary = trafficShare < 1 && champion !== undefined && champion !== version && (previous === undefined || previous.status === 'ended');
      const needsReference = this.references.needsTrainingReference(model, version);
      const superseded = startsCanary ? this.canaries.liveOf(model) : undefined;
      const row: CanaryRow | undefined = startsCanary
        ? {
            model,
            version,
            championVersion: champion,
            status: 'watching',
            correlationId: event.correlationId,
            deploymentEventId: event.id,
            predictions: 0,
            comparison: JSON.stringify(shadow ? { shadow: { compared: 0, agreed: 0 } } : ab ? { ab } : {}),
            verdict: null,
            endedReason: null,
            startedAt: this.now(),
          }
        : undefined;
      const waiting = this.references.waitingRow(model, version);
      const outcome = await this.store.once('deployments', event.id, async (tx) => {
        if (superseded) await tx.saveCanary({ ...superseded.row, status: 'ended', endedReason: `superseded by the canary of v${version}` });
        if (row) await tx.saveCanary(row);
        if (needsReference) await tx.saveReference(waiting);
      });
      if (!outcome.applied) return;
      if (superseded) this.canaries.end(superseded, `superseded by the canary of v${version}`);
      if (row) {
        this.canaries.start(row);
        this.log.log(
          shadow
            ? `shadow ${model} v${version} against champion v${champion} on the same requests (labels and agreement): verdict after ${this.options.minPredictions} predictions`
            : ab
              ? `A/B test ${model} v${version} (share ${trafficShare}) against champion v${champion}: two-proportion z-test on accuracy once each side has ${ab.labels} labels`
              : `canary ${model} v${version} against champion v${champion}: verdict after ${this.options.minPredictions} predictions`,
        );
      }
      if (needsReference) await this.references.resolve(model, version);
    });
  }

  /** model.promoted (alias champion) and model.rolled_back move the champion; either ends that version's canary. */
  onChampionChange(event: EventOf<'model.promoted' | 'model.rolled_back'>): Promise<void> | undefined {
    if (event.type === 'model.promoted' && event.data.alias !== 'champion') return undefined;
    return this.lane.run(async () => {
      const { model, version } = event.data;
      let champion = this.champions.of(model);
      let reason: string;
      if (event.type === 'model.promoted') {
        champion = version;
        reason = 'promoted to champion';
      } else {
        if (champion === version) champion = event.data.restoredVersion;
        reason = `rolled back: ${event.data.reason}`;
      }
      const live = this.canaries.liveOf(model);
      const ends = live && live.row.version === version ? live : undefined;
      const outcome = await this.store.once('champions', event.id, async (tx) => {
        if (champion === undefined) await tx.deleteChampion(model);
        else await tx.saveChampion({ model, version: champion });
        if (ends) await tx.saveCanary({ ...ends.row, status: 'ended', endedReason: reason });
      });
      if (!outcome.applied) return;
      this.champions.set(model, champion);
      if (ends) this.canaries.end(ends, reason);
    });
  }

  /**
   * Counts a prediction of the model's watching canary; returns the verdict or count write
   * it calls for, if any. The verdict comes once the canary has its predictions and both
   * sides their labels, or the labels did not come within MONITORING_CANARY_LABEL_WAIT_S.
   */
  onPrediction(model: string, version: number, now: number): Promise<void> | undefined {
    const live = this.canaries.liveOf(model);
    if (!live || live.row.status !== 'watching' || live.row.version !== version || live.evaluating) return undefined;
    live.row.predictions++;
    // An A/B test is decided by its labels alone, never on predictions or a wait.
    if (live.ab) return this.flush.due(live, now);
    if (live.row.predictions >= this.options.minPredictions) live.readyAt ??= now;
    if (live.readyAt !== undefined && (this.labelled(live) || now - live.readyAt >= this.options.labelWaitMs)) {
      live.evaluating = true;
      return this.lane.run(() => this.evaluate(live));
    }
    return this.flush.due(live, now);
  }

  /** A shadow's answer met the champion's answer to the same request: counts whether they agree. */
  onShadowAgreement(model: string, version: number, agreed: boolean): void {
    const live = this.canaries.liveOf(model);
    if (!live?.shadow || live.row.status !== 'watching' || live.row.version !== version) return;
    live.shadow.compared++;
    if (agreed) live.shadow.agreed++;
  }

  /**
   * Folds one joined label into the batch's comparison of its model, when the prediction
   * belongs to the running canary or its champion and was made while the canary ran. As one
   * label at a time would, the comparison stops taking labels at the one that completes it.
   */
  foldLabel(comparisons: Map<string, CanaryComparison>, prediction: PendingPrediction, label: number | string): void {
    const { model, version, outcome } = prediction;
    const live = this.canaries.liveOf(model);
    // Both sides on the same traffic period: a champion prediction made before the canary
    // started (its label late, or processed late) belongs to the champion's past, not to
    // the comparison; on a shifted stream that past flatters the champion.
    const duringCanary = live !== undefined && prediction.at >= live.row.startedAt;
    const side =
      live?.row.status === 'watching' && duringCanary
        ? live.row.version === version
          ? 'canary'
          : live.row.championVersion === version
            ? 'champion'
            : undefined
        : undefined;
    if (!live || !side) return;
    let comparison = comparisons.get(model);
    if (!comparison) {
      comparison = { live, canary: live.canary.clone(), champion: live.champion.clone(), complete: false };
      comparisons.set(model, comparison);
    }
    if (!comparison.complete) {
      comparison[side].add(outcome, label);
      const needed = this.labelsNeeded(live);
      const labelled = comparison.canary.labels >= needed && comparison.champion.labels >= needed;
      comparison.complete = this.ready(live) && !live.evaluating && labelled;
    }
  }

  /** Writes the batch's comparisons in its transaction. */
  async saveComparisons(tx: StoreTransaction, comparisons: ReadonlyMap<string, CanaryComparison>): Promise<void> {
    for (const c of comparisons.values()) {
      const extra = { ...(c.live.shadow ? { shadow: c.live.shadow } : {}), ...(c.live.ab ? { ab: c.live.ab } : {}) };
      await tx.saveCanary({ ...c.live.row, comparison: JSON.stringify({ canary: c.canary.state, champion: c.champion.state, ...extra }) });
    }
  }

  /** The batch committed: its comparisons become the live ones. */
  applyComparisons(comparisons: ReadonlyMap<string, CanaryComparison>): void {
    for (const c of comparisons.values()) {
      c.live.canary = c.canary;
      c.live.champion = c.champion;
    }
  }

  /** Decides the canaries that had their predictions and were waiting for exactly these labels (in the write lane). */
  async evaluateLabelled(comparisons: ReadonlyMap<string, CanaryComparison>): Promise<void> {
    for (const { live } of comparisons.values()) {
      if (this.ready(live) && !live.evaluating && live.row.status === 'watching' && this.labelled(live)) {
        live.evaluating = true;
        await this.evaluate(live);
      }
    }
  }

  /** Canary and champion both have the labels a labels-based verdict needs. */
  private labelled(live: LiveCanary): boolean {
    const needed = this.labelsNeeded(live);
    return live.canary.labels >= needed && live.champion.labels >= needed;
  }

  /** Labels each side needs: an A/B test's own number, else MONITORING_CANARY_MIN_LABELS. */
  private labelsNeeded(live: LiveCanary): number {
    return live.ab?.labels ?? this.options.minLabels;
  }

  /** A canary is decided once it has its predictions; an A/B test as soon as its labels are in. */
  private ready(live: LiveCanary): boolean {
    return live.ab !== undefined || live.readyAt !== undefined;
  }

  private async evaluate(live: LiveCanary): Promise<void> {
    const { row } = live;
    if (this.canaries.liveOf(row.model) !== live || row.status !== 'watching') return;
    const data = live.ab
      ? abVerdict({
          model: row.model,
          version: row.version,
          championVersion: row.championVersion,
          predictions: row.predictions,
          challenger: live.canary,
          champion: live.champion,
          alpha: this.options.abAlpha,
        })
      : canaryVerdict({
          model: row.model,
          version: row.version,
          championVersion: row.championVersion,
          predictions: row.predictions,
          canary: live.canary,
          champion: live.champion,
          metric: this.performance.metricFor,
          minLabels: this.options.minLabels,
          tolerance: this.options.tolerance,
          confidence: this.options.confidence,
          shadow: live.shadow,
        });
    const event = causedBy({ correlationId: row.correlationId }, 'canary.evaluated', {
      id: uuidv5(`${row.deploymentEventId}/canary.evaluated`, VERDICT_NAMESPACE),
      source: 'monitoring',
      subject: row.model,
      data,
    });
    const evaluated: CanaryRow = { ...row, status: 'evaluated', verdict: JSON.stringify(event.data) };
    try {
      await this.outbox.decide((tx) => tx.saveCanary(evaluated), [event]);
    } catch (error) {
      live.evaluating = false;
      throw error;
    }
    this.canaries.evaluated(live, evaluated);
    this.metrics.canaryVerdicts.inc({ model: row.model, verdict: data.verdict });
    const decision = live.shadow ? (data.verdict === 'promote' ? 'promote' : 'drop') : data.verdict;
    this.log.log(`${live.shadow ? 'shadow' : live.ab ? 'A/B test' : 'canary'} ${row.model} v${row.version}: ${decision} (${data.reason})`);
  }
}
