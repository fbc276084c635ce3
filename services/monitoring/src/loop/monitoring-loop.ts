import { v5 as uuidv5 } from 'uuid';
import { causedBy, createEvent, type AnyEvent, type EventEnvelope } from '@mlops/contracts';
import type { EventBus } from '@mlops/bus';
import type { MonitoringMetrics } from '../metrics';
import type { MonitoringService, ReferenceBody, ReferenceSource } from '../monitoring.service';
import { EarlyLabels } from '../performance/early-labels';
import { PendingPredictions, type PendingPrediction } from '../performance/pending-predictions';
import { HIGHER_IS_BETTER, PerformanceAggregate, type AggregateOptions, type AggregateState, type PerformanceMetric } from '../performance/performance-aggregate';
import { outcomeOf, type OutputNames } from '../performance/prediction-outcome';
import { trainingReferenceRows } from '../references/training-reference';
import type { CanaryRow, DatasetRow, ReferenceRow, RunRow } from '../store/entities';
import type { MonitoringStore, StoreTransaction } from '../store/monitoring.store';
import { canaryVerdict } from './canary-verdict';

/** Namespace of the deterministic canary.evaluated ids (one verdict per deployment event). */
const VERDICT_NAMESPACE = '5b0c7a52-31f1-4a5e-9d0e-6c1f1d0b7e21';
const SOURCE = 'monitoring';

export interface LoopOptions {
  referenceRows: number;
  outputs: OutputNames;
  aggregate: AggregateOptions;
  classificationMetric: PerformanceMetric;
  regressionMetric: PerformanceMetric;
  performanceTolerance: number;
  performanceMinLabels: number;
  canaryMinPredictions: number;
  canaryMinLabels: number;
  canaryLabelWaitMs: number;
  /** How long a label that overtook its prediction (another topic) waits for it. */
  earlyLabelWaitMs: number;
  canaryTolerance: number;
  canaryConfidence: number;
  cooldownSeconds: number;
  flushMs: number;
  pendingMax: number;
  labelTtlMs: number;
  now?: () => number;
  log: { log(message: string): void; warn(message: string): void; error(message: string): void };
}

interface LiveCanary {
  row: CanaryRow;
  canary: PerformanceAggregate;
  champion: PerformanceAggregate;
  evaluating: boolean;
  lastFlush: number;
  /** When the canary reached its predictions (in memory: a restart waits for labels afresh). */
  readyAt?: number;
}

const keyOf = (model: string, version: number) => `${model}\u0000${version}`;

interface JoinedLabel {
  event: EventEnvelope<'label.observed'>;
  prediction: PendingPrediction;
}

/** What a batch of labels changes, computed inside its transaction, applied in memory after it commits. */
interface FoldedLabels {
  performance: Map<string, PerformanceAggregate>;
  versions: Map<string, { model: string; version: number; counted: number }>;
  comparisons: Map<string, { live: LiveCanary; canary: PerformanceAggregate; champion: PerformanceAggregate; complete: boolean }>;
  degraded: { event: EventEnvelope<'performance.degraded'>; cooldownKey: string }[];
  /** Labels that do not fit their prediction's kind (counted as unmatched). */
  unfit: number;
}

/** A batch's aggregates and cooldowns not yet committed, seen before the stored ones. */
interface BatchView {
  performance: ReadonlyMap<string, PerformanceAggregate>;
  cooldowns: ReadonlyMap<string, number>;
}


/**
 * The monitor's part of the closed loop, next to the drift windows: lineage facts from
 * events, references for deployed versions from their training dataset, late labels joined
 * to predictions, per-version performance with performance.degraded, and the canary
 * verdict. Effects are stored (applied once per event); decided events go through an
 * outbox, so a restart neither loses nor repeats them. Store writes run one at a time.
 */
export class MonitoringLoop {
  private readonly datasets = new Map<string, DatasetRow>();
  private readonly runs = new Map<string, RunRow>();
  private readonly versionRuns = new Map<string, string | null>();
  private readonly champions = new Map<string, number>();
  private readonly references = new Map<string, ReferenceRow>();
  private readonly canaryRows = new Map<string, CanaryRow>();
  /** The canary of each model that is not yet ended (watching or evaluated). */
  private readonly live = new Map<string, LiveCanary>();
  private readonly performance = new Map<string, PerformanceAggregate>();
  private readonly cooldowns = new Map<string, number>();
  readonly pending: PendingPredictions;
  /** Labels that overtook their prediction (another topic), waiting for it. */
  readonly early: EarlyLabels;
  unmatchedLabels = 0;
  private lane: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;

  constructor(
    private readonly drift: MonitoringService,
    private readonly store: MonitoringStore,
    private readonly bus: EventBus,
    private readonly metrics: MonitoringMetrics,
    private readonly options: LoopOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.pending = new PendingPredictions({ max: options.pendingMax, ttlMs: options.labelTtlMs, now: this.now });
    this.early = new EarlyLabels({ max: options.pendingMax, ttlMs: options.earlyLabelWaitMs, now: this.now, onExpired: () => this.metrics.labelsUnmatched.inc() });
  }

  /** Store writes (and what depends on their order) one at a time. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.lane.catch(() => undefined).then(work);
    this.lane = run;
    return run;
  }

  private aggregate(state?: AggregateState): PerformanceAggregate {
    return state ? new PerformanceAggregate(state, this.options.aggregate) : PerformanceAggregate.empty(this.options.aggregate);
  }

  private metricFor = (kind: 'classification' | 'regression'): PerformanceMetric =>
    kind === 'classification' ? this.options.classificationMetric : this.options.regressionMetric;

  // ---- start / stop ---------------------------------------------------------------------

  /** Reloads everything stored: references (rebuilt), lineage, canaries, aggregates, cooldowns; resends the outbox. */
  async start(): Promise<void> {
    const stored = await this.store.load();
    stored.datasets.forEach((d) => this.datasets.set(d.datasetId, d));
    stored.runs.forEach((r) => this.runs.set(r.runId, r));
    stored.versions.forEach((v) => this.versionRuns.set(keyOf(v.model, v.version), v.runId));
    stored.champions.forEach((c) => this.champions.set(c.model, c.version));
    stored.performance.forEach((p) => this.performance.set(keyOf(p.model, p.version), this.aggregate(JSON.parse(p.state))));
    for (const c of stored.cooldowns) {
      this.cooldowns.set(c.key, c.lastAt);
      if (c.key.startsWith('drift:')) this.drift.restoreCooldown(c.key.slice('drift:'.length), c.lastAt);
    }
    for (const reference of stored.references) {
      this.references.set(keyOf(reference.model, reference.version), reference);
      if (reference.status !== 'ready' || !reference.body) continue;
      try {
        this.drift.setReference(reference.model, reference.version, JSON.parse(reference.body), (reference.source ?? 'http') as ReferenceSource);
      } catch (error) {
        this.options.log.error(`stored reference of ${reference.model} v${reference.version} could not be rebuilt: ${(error as Error).message}`);
      }
    }
    for (const row of stored.canaries) {
      this.canaryRows.set(keyOf(row.model, row.version), row);
      if (row.status !== 'ended') this.live.set(row.model, this.liveCanary(row));
    }
    for (const row of stored.performance) this.exportPerformance(row.model, row.version);
    if (stored.outbox.length > 0) await this.send(stored.outbox.map((o) => JSON.parse(o.event) as AnyEvent));
    await this.serial(() => this.resolveWaitingReferences());
  }

  /** Writes the canary prediction counts not yet written. */
  async stop(): Promise<void> {
    await this.serial(async () => {
      for (const live of this.live.values()) {
        if (live.row.status === 'watching') await this.store.saveCanaryPredictions(live.row.model, live.row.version, live.row.predictions);
      }
    });
  }

  private liveCanary(row: CanaryRow): LiveCanary {
    const comparison = JSON.parse(row.comparison) as { canary?: AggregateState; champion?: AggregateState };
    return { row, canary: this.aggregate(comparison.canary), champion: this.aggregate(comparison.champion), evaluating: false, lastFlush: this.now() };
  }

  /** Publishes decided events, then takes them off the outbox; a failure leaves them for a retry. */
  private async send(events: AnyEvent[]): Promise<void> {
    for (const event of events) {
      try {
        await this.bus.publish(event);
        await this.store.published(event.id);
      } catch (error) {
        this.options.log.error(`${event.type} ${event.id} not published yet (kept in the outbox, retried in 5 s): ${(error as Error).message}`);
        setTimeout(() => void this.send([event]), 5_000).unref();
      }
    }
  }

  // ---- lineage, references -----------------------------------------------------------

  /** dataset.materialized, training.completed, model.registered: facts a reference needs later. */
  onLineage(event: EventEnvelope<'dataset.materialized'> | EventEnvelope<'training.completed'> | EventEnvelope<'model.registered'>): Promise<void> {
    return this.serial(async () => {
      const e = event as AnyEvent;
      let apply: () => void = () => undefined;
      const outcome = await this.store.once('lineage', event.id, async (tx) => {
        if (e.type === 'dataset.materialized') {
          const row = { datasetId: e.data.datasetId, uri: e.data.uri, schema: JSON.stringify(e.data.schema) };
          await tx.saveDataset(row);
          apply = () => this.datasets.set(row.datasetId, row);
        } else if (e.type === 'training.completed') {
          const features = (e.data.params.features ?? '').split(',').map((f) => f.trim()).filter(Boolean);
          const row = { runId: e.data.runId, model: e.data.model, datasetId: e.data.datasetId ?? null, features: JSON.stringify(features), metrics: JSON.stringify(e.data.metrics) };
          await tx.saveRun(row);
          apply = () => this.runs.set(row.runId, row);
        } else if (e.type === 'model.registered') {
          const row = { model: e.data.model, version: e.data.version, runId: e.data.runId ?? null };
          await tx.saveVersion(row);
          apply = () => this.versionRuns.set(keyOf(row.model, row.version), row.runId);
        }
      });
      if (!outcome.applied) return;
      apply();
      await this.resolveWaitingReferences();
    });
  }

  /** What is still missing for a version's training reference, or its dataset and features. */
  private lineageOf(model: string, version: number): { missing: string } | { datasetId: string; uri: string; features: string[] } {
    const runId = this.versionRuns.get(keyOf(model, version));
    if (runId === undefined) return { missing: `model.registered for ${model} v${version}` };
    if (runId === null) return { missing: `a run id (model.registered of ${model} v${version} has none)` };
    const run = this.runs.get(runId);
    if (!run) return { missing: `training.completed of run ${runId}` };
    const features = JSON.parse(run.features) as string[];
    if (!run.datasetId) return { missing: `a dataset id (training.completed of run ${runId} has none)` };
    if (features.length === 0) return { missing: `the feature order (training.completed of run ${runId} has no params.features)` };
    const dataset = this.datasets.get(run.datasetId);
    if (!dataset) return { missing: `dataset.materialized of ${run.datasetId}` };
    return { datasetId: run.datasetId, uri: dataset.uri, features };
  }

  private async resolveWaitingReferences(): Promise<void> {
    for (const reference of [...this.references.values()]) {
      if (reference.status === 'waiting-for-lineage') await this.resolveReference(reference.model, reference.version);
    }
  }

  /** Builds a deployed version's reference from its training dataset, or records why not. */
  private async resolveReference(model: string, version: number): Promise<void> {
    const lineage = this.lineageOf(model, version);
    const base = { model, version, source: 'training-dataset', updatedAt: this.now() };
    let row: ReferenceRow;
    if ('missing' in lineage) {
      const problem = `waiting for ${lineage.missing}`;
      const current = this.references.get(keyOf(model, version));
      if (current?.status === 'waiting-for-lineage' && current.problem === problem) return;
      row = { ...base, status: 'waiting-for-lineage', body: null, datasetId: null, problem };
    } else {
      try {
        const rows = await trainingReferenceRows(lineage.uri, lineage.features, this.options.referenceRows);
        const { body } = this.drift.setReference(model, version, { rows }, 'training-dataset');
        row = { ...base, status: 'ready', body: JSON.stringify(body), datasetId: lineage.datasetId, problem: null };
        this.options.log.log(`reference for ${model} v${version}: ${rows.length} rows of its training dataset ${lineage.datasetId}`);
      } catch (error) {
        const problem = (error as Error).message;
        row = { ...base, status: 'unavailable', body: null, datasetId: lineage.datasetId, problem };
        this.options.log.warn(`no drift reference for ${model} v${version}: ${problem}`);
      }
    }
    await this.store.transaction((tx) => tx.saveReference(row));
    this.references.set(keyOf(model, version), row);
    this.metrics.referenceReady.set({ model, version: String(version) }, row.status === 'ready' ? 1 : 0);
  }

  /** A reference set by hand (HTTP / service API): built, then stored. */
  async setReference(model: string, version: number, body: unknown) {
    const { body: validated, ...description } = this.drift.setReference(model, version, body, 'http');
    await this.storeReference(model, version, validated, 'http');
    return description;
  }

  /** Stores a reference the drift service learned from a version's first predictions. */
  referenceLearned(model: string, version: number, body: ReferenceBody): void {
    void this.storeReference(model, version, body, 'first-predictions').catch((error) =>
      this.options.log.error(`learned reference of ${model} v${version} not stored: ${(error as Error).message}`),
    );
  }

  private storeReference(model: string, version: number, body: ReferenceBody, source: ReferenceSource): Promise<void> {
    const row: ReferenceRow = { model, version, status: 'ready', source, body: JSON.stringify(body), datasetId: null, problem: null, updatedAt: this.now() };
    return this.serial(async () => {
      await this.store.transaction((tx) => tx.saveReference(row));
      this.references.set(keyOf(model, version), row);
      this.metrics.referenceReady.set({ model, version: String(version) }, 1);
    });
  }

  // ---- deployments, champions, canaries --------------------------------------------------

  /**
   * deployment.completed (serving): the version gets a reference from its training dataset
   * (unless it has one), and a partial-traffic version that is not the champion starts a
   * canary against the champion. A model without a champion has no canary.
   */
  onDeployment(event: EventEnvelope<'deployment.completed'>): Promise<void> | undefined {
    const { model, version, status, trafficShare } = event.data;
    if (status !== 'serving') return undefined;
    return this.serial(async () => {
      const key = keyOf(model, version);
      const champion = this.champions.get(model);
      const previous = this.canaryRows.get(key);
      const startsCanary = trafficShare < 1 && champion !== undefined && champion !== version && (previous === undefined || previous.status === 'ended');
      const needsReference = !this.drift.hasReference(model, version);
      const superseded = startsCanary ? this.live.get(model) : undefined;
      const row: CanaryRow | undefined = startsCanary
        ? {
            model,
            version,
            championVersion: champion,
            status: 'watching',
            correlationId: event.correlationId,
            deploymentEventId: event.id,
            predictions: 0,
            comparison: JSON.stringify({}),
            verdict: null,
            endedReason: null,
            startedAt: this.now(),
          }
        : undefined;
      const waiting: ReferenceRow = { model, version, status: 'waiting-for-lineage', source: 'training-dataset', body: null, datasetId: null, problem: 'waiting for lineage', updatedAt: this.now() };
      const outcome = await this.store.once('deployments', event.id, async (tx) => {
        if (superseded) await tx.saveCanary({ ...superseded.row, status: 'ended', endedReason: `superseded by the canary of v${version}` });
        if (row) await tx.saveCanary(row);
        if (needsReference) await tx.saveReference(waiting);
      });
      if (!outcome.applied) return;
      if (superseded) this.endCanary(superseded, `superseded by the canary of v${version}`);
      if (row) {
        this.canaryRows.set(key, row);
        this.live.set(model, this.liveCanary(row));
        this.options.log.log(`canary ${model} v${version} against champion v${champion}: verdict after ${this.options.canaryMinPredictions} predictions`);
      }
      if (needsReference) await this.resolveReference(model, version);
    });
  }

  private endCanary(live: LiveCanary, reason: string): void {
    live.row = { ...live.row, status: 'ended', endedReason: reason };
    this.canaryRows.set(keyOf(live.row.model, live.row.version), live.row);
    if (this.live.get(live.row.model) === live) this.live.delete(live.row.model);
  }

  /** model.promoted (alias champion) and model.rolled_back move the champion; either ends that version's canary. */
  onChampionChange(event: EventEnvelope<'model.promoted'> | EventEnvelope<'model.rolled_back'>): Promise<void> | undefined {
    const e = event as AnyEvent;
    if (e.type === 'model.promoted' && e.data.alias !== 'champion') return undefined;
    return this.serial(async () => {
      const { model, version } = event.data;
      let champion = this.champions.get(model);
      let reason = '';
      if (e.type === 'model.promoted') {
        champion = version;
        reason = 'promoted to champion';
      } else if (e.type === 'model.rolled_back') {
        if (champion === version) champion = e.data.restoredVersion;
        reason = `rolled back: ${e.data.reason}`;
      }
      const live = this.live.get(model);
      const ends = live && live.row.version === version ? live : undefined;
      const outcome = await this.store.once('champions', event.id, async (tx) => {
        if (champion === undefined) await tx.deleteChampion(model);
        else await tx.saveChampion({ model, version: champion });
        if (ends) await tx.saveCanary({ ...ends.row, status: 'ended', endedReason: reason });
      });
      if (!outcome.applied) return;
      if (champion === undefined) this.champions.delete(model);
      else this.champions.set(model, champion);
      if (ends) this.endCanary(ends, reason);
    });
  }

  // ---- predictions, labels ----------------------------------------------------------------

  /**
   * The per-prediction path (must stay O(1)): drift window, the label-join map, the canary
   * count. Returns a promise only when something must be stored or published.
   */
  onPrediction(event: EventEnvelope<'prediction.logged'>): Promise<void> | undefined {
    const drift = this.drift.onPrediction(event);
    const { predictionId, model, version, outputs } = event.data;
    const now = this.now();
    const outcome = outcomeOf(outputs, this.options.outputs);
    if (outcome) this.pending.add(predictionId, { model, version, outcome, at: now });
    const work: Promise<void>[] = [];
    // The label may have overtaken its prediction (another topic): it joins now.
    const early = outcome ? this.early.take(predictionId) : undefined;
    const joined = early ? this.onLabel(early) : undefined;
    if (joined) work.push(joined);
    const live = this.live.get(model);
    if (live && live.row.status === 'watching' && live.row.version === version && !live.evaluating) {
      live.row.predictions++;
      if (live.row.predictions >= this.options.canaryMinPredictions) live.readyAt ??= now;
      if (live.readyAt !== undefined && (this.labelled(live) || now - live.readyAt >= this.options.canaryLabelWaitMs)) {
        live.evaluating = true;
        work.push(this.serial(() => this.evaluateCanary(live)));
      } else if (now - live.lastFlush >= this.options.flushMs) {
        live.lastFlush = now;
        const { predictions } = live.row;
        work.push(this.serial(() => this.store.saveCanaryPredictions(model, version, predictions)));
      }
    }
    if (drift) {
      work.push(this.serial(() => this.decide((tx) => tx.saveCooldown({ key: `drift:${model}`, lastAt: now }), [drift])));
      this.options.log.warn(`drift detected for ${model} v${version}: ${drift.data.features.filter((f) => f.drifted).map((f) => f.feature).join(', ')}`);
    }
    if (work.length === 0) return undefined;
    return work.length === 1 ? work[0] : Promise.all(work).then(() => undefined);
  }

  /** Canary and champion both have the labels a labels-based verdict needs. */
  private labelled(live: LiveCanary): boolean {
    return live.canary.labels >= this.options.canaryMinLabels && live.champion.labels >= this.options.canaryMinLabels;
  }

  /** Stores a decision with its events in the outbox, then publishes them. */
  private async decide(effect: (tx: StoreTransaction) => Promise<unknown>, events: AnyEvent[]): Promise<void> {
    const now = this.now();
    await this.store.transaction(async (tx) => {
      await effect(tx);
      for (const event of events) await tx.enqueue(event, now);
    });
    await this.send(events);
  }

  private async evaluateCanary(live: LiveCanary): Promise<void> {
    const { row } = live;
    if (this.live.get(row.model) !== live || row.status !== 'watching') return;
    const data = canaryVerdict({
      model: row.model,
      version: row.version,
      championVersion: row.championVersion,
      predictions: row.predictions,
      canary: live.canary,
      champion: live.champion,
      metric: this.metricFor,
      minLabels: this.options.canaryMinLabels,
      tolerance: this.options.canaryTolerance,
      confidence: this.options.canaryConfidence,
    });
    const event = causedBy({ correlationId: row.correlationId }, 'canary.evaluated', {
      id: uuidv5(`${row.deploymentEventId}/canary.evaluated`, VERDICT_NAMESPACE),
      source: SOURCE,
      subject: row.model,
      data,
    });
    const evaluated: CanaryRow = { ...row, status: 'evaluated', verdict: JSON.stringify(event.data) };
    try {
      await this.decide((tx) => tx.saveCanary(evaluated), [event as AnyEvent]);
    } catch (error) {
      live.evaluating = false;
      throw error;
    }
    live.row = evaluated;
    this.canaryRows.set(keyOf(row.model, row.version), evaluated);
    this.metrics.canaryVerdicts.inc({ model: row.model, verdict: data.verdict });
    this.options.log.log(`canary ${row.model} v${row.version}: ${data.verdict} (${data.reason})`);
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
      joined.push({ event, prediction });
    }
    if (joined.length === 0) return undefined;
    return this.serial(() => this.applyLabels(joined));
  }

  private async applyLabels(joined: JoinedLabel[]): Promise<void> {
    const now = this.now();
    const effect = await this.store.onceEach('labels', joined.map((j) => j.event.id), async (tx, fresh) => {
      const folded = this.foldLabels(joined.filter((j) => fresh.has(j.event.id)), now);
      for (const [key, aggregate] of folded.performance) {
        const { model, version } = folded.versions.get(key)!;
        await tx.savePerformance({ model, version, state: JSON.stringify(aggregate.state) });
      }
      for (const c of folded.comparisons.values()) {
        await tx.saveCanary({ ...c.live.row, comparison: JSON.stringify({ canary: c.canary.state, champion: c.champion.state }) });
      }
      for (const degraded of folded.degraded) {
        await tx.saveCooldown({ key: degraded.cooldownKey, lastAt: now });
        await tx.enqueue(degraded.event, now);
      }
      return folded;
    });
    for (const { event } of joined) this.pending.remove(event.data.predictionId);
    if (effect.unfit > 0) {
      this.unmatchedLabels += effect.unfit;
      this.metrics.labelsUnmatched.inc(effect.unfit);
    }
    for (const [key, aggregate] of effect.performance) {
      const { model, version, counted } = effect.versions.get(key)!;
      this.performance.set(key, aggregate);
      if (counted > 0) this.metrics.labels.inc({ model, version: String(version) }, counted);
      this.exportPerformance(model, version);
    }
    for (const c of effect.comparisons.values()) {
      c.live.canary = c.canary;
      c.live.champion = c.champion;
    }
    for (const degraded of effect.degraded) {
      const { model, version, metric, value, baseline } = degraded.event.data;
      this.cooldowns.set(degraded.cooldownKey, now);
      this.metrics.performanceDegraded.inc({ model, metric });
      this.options.log.warn(`performance degraded for ${model} v${version}: ${metric} ${value} vs baseline ${baseline}`);
    }
    if (effect.degraded.length > 0) await this.send(effect.degraded.map((d) => d.event as AnyEvent));
    for (const { live } of effect.comparisons.values()) {
      // The canary had its predictions and was waiting for exactly these labels.
      if (live.readyAt !== undefined && !live.evaluating && live.row.status === 'watching' && this.labelled(live)) {
        live.evaluating = true;
        await this.evaluateCanary(live);
      }
    }
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
    for (const { event, prediction } of labels) {
      const { model, version, outcome } = prediction;
      const { label } = event.data;
      const key = keyOf(model, version);
      let next = folded.performance.get(key);
      if (!next) {
        next = (this.performance.get(key) ?? this.aggregate()).clone();
        folded.performance.set(key, next);
        folded.versions.set(key, { model, version, counted: 0 });
      }
      if (!next.add(outcome, label)) {
        folded.unfit++;
        continue;
      }
      folded.versions.get(key)!.counted++;
      const live = this.live.get(model);
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
      if (live && side) {
        let comparison = folded.comparisons.get(model);
        if (!comparison) {
          comparison = { live, canary: live.canary.clone(), champion: live.champion.clone(), complete: false };
          folded.comparisons.set(model, comparison);
        }
        if (!comparison.complete) {
          comparison[side].add(outcome, label);
          const labelled = comparison.canary.labels >= this.options.canaryMinLabels && comparison.champion.labels >= this.options.canaryMinLabels;
          comparison.complete = live.readyAt !== undefined && !live.evaluating && labelled;
        }
      }
      const degraded = this.degradation(model, version, next, { performance: folded.performance, cooldowns });
      if (degraded) {
        cooldowns.set(degraded.cooldownKey, now);
        folded.degraded.push(degraded);
      }
    }
    return folded;
  }

  /** The baseline of a version: the champion's live value (enough labels), else its training metric. */
  private baseline(model: string, version: number, metric: PerformanceMetric, batch?: BatchView): { value: number; source: string } | undefined {
    const champion = this.champions.get(model);
    if (champion !== undefined && champion !== version) {
      const key = keyOf(model, champion);
      const live = batch?.performance.get(key) ?? this.performance.get(key);
      const value = live && live.labels >= this.options.performanceMinLabels ? live.metric(metric) : undefined;
      if (value !== undefined) return { value, source: `champion v${champion}` };
    }
    const runId = this.versionRuns.get(keyOf(model, version));
    const run = runId ? this.runs.get(runId) : undefined;
    const trained = run ? (JSON.parse(run.metrics) as Record<string, number>)[metric] : undefined;
    return typeof trained === 'number' && Number.isFinite(trained) ? { value: trained, source: 'training' } : undefined;
  }

  private degradation(model: string, version: number, aggregate: PerformanceAggregate, batch?: BatchView) {
    if (aggregate.labels < this.options.performanceMinLabels || !aggregate.kind) return undefined;
    const metric = this.metricFor(aggregate.kind);
    const value = aggregate.metric(metric);
    const baseline = this.baseline(model, version, metric, batch);
    if (value === undefined || !baseline) return undefined;
    const tolerance = this.options.performanceTolerance;
    const higher = HIGHER_IS_BETTER[metric];
    const threshold = higher ? baseline.value - tolerance : baseline.value + tolerance;
    if (higher ? value >= threshold : value <= threshold) return undefined;
    const cooldownKey = `performance:${model}:${version}`;
    const last = batch?.cooldowns.get(cooldownKey) ?? this.cooldowns.get(cooldownKey);
    if (last !== undefined && this.now() - last < this.options.cooldownSeconds * 1000) return undefined;
    const event = createEvent('performance.degraded', {
      source: SOURCE,
      subject: model,
      data: { model, version, metric, value, baseline: baseline.value, threshold },
    });
    return { event, cooldownKey };
  }

  private exportPerformance(model: string, version: number): void {
    const aggregate = this.performance.get(keyOf(model, version));
    if (!aggregate) return;
    for (const [metric, value] of Object.entries(aggregate.metrics())) {
      this.metrics.performance.set({ model, version: String(version), metric }, value);
    }
  }

  // ---- status ------------------------------------------------------------------------

  performanceOf(model: string, version: number) {
    const aggregate = this.performance.get(keyOf(model, version));
    const kind = aggregate?.kind;
    const metric = kind ? this.metricFor(kind) : undefined;
    return {
      model,
      version,
      kind: kind ?? null,
      labels: aggregate?.labels ?? 0,
      metrics: aggregate?.metrics() ?? {},
      baseline: metric ? { metric, ...(this.baseline(model, version, metric) ?? { value: null, source: null }) } : null,
    };
  }

  private canaryJson(row: CanaryRow) {
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    const { comparison, verdict, ...rest } = row;
    const live = this.live.get(row.model);
    const current = live?.row.version === row.version ? live : undefined;
    return {
      ...rest,
      predictions: current?.row.predictions ?? row.predictions,
      labels: current ? { canary: current.canary.labels, champion: current.champion.labels } : undefined,
      verdict: verdict ? JSON.parse(verdict) : null,
    };
  }

  /** Everything the monitor knows about a model: champion, canaries, per version reference and performance. */
  modelStatus(model: string) {
    const versions = new Set<number>();
    for (const map of [this.references, this.performance, this.versionRuns, this.canaryRows]) {
      for (const key of map.keys()) {
        const [m, v] = key.split('\u0000');
        if (m === model) versions.add(Number(v));
      }
    }
    return {
      model,
      champion: this.champions.get(model) ?? null,
      canary: this.live.has(model) ? this.canaryJson(this.live.get(model)!.row) : null,
      canaries: [...this.canaryRows.values()].filter((c) => c.model === model).map((c) => this.canaryJson(c)),
      versions: [...versions].sort((a, b) => a - b).map((version) => {
        const reference = this.references.get(keyOf(model, version));
        return {
          version,
          reference: reference
            ? { status: reference.status, source: reference.source, datasetId: reference.datasetId, problem: reference.problem, updatedAt: new Date(reference.updatedAt).toISOString() }
            : { status: this.drift.hasReference(model, version) ? 'ready' : 'none' },
          performance: this.performanceOf(model, version),
        };
      }),
    };
  }

  status() {
    const models = new Set<string>();
    for (const map of [this.references, this.performance, this.versionRuns, this.canaryRows]) for (const key of map.keys()) models.add(key.split('\u0000')[0]);
    for (const model of this.champions.keys()) models.add(model);
    return {
      models: [...models].sort(),
      labels: { pendingPredictions: this.pending.size, evictedUnlabelled: this.pending.evictedUnlabelled, unmatched: this.unmatchedLabels + this.early.expired, waitingForPrediction: this.early.size },
      referenceProblems: [...this.references.values()]
        .filter((r) => r.status !== 'ready')
        .map((r) => ({ model: r.model, version: r.version, status: r.status, problem: r.problem })),
    };
  }
}
