import { readFileSync } from 'node:fs';
import { tableFromIPC } from 'apache-arrow';
import type { EventBus, Subscription } from '@mlops/bus';
import { causedBy, type AnyEvent, type EventEnvelope } from '@mlops/contracts';

/**
 * Loop glue that no service owns yet, for the embedded mode:
 *  - drift.detected -> retrain.requested (debounced: one per episode; same correlation id;
 *    carries the feature view the model is trained from);
 *  - a deployed version gets its monitoring reference from the dataset it was trained on
 *    (keyed `input[i]` like serving's prediction.logged, in the model's feature order);
 *  - the first version is promoted to champion at once; a later (canary) version after
 *    `promoteAfter` successful predictions by it — through the registry's promote(), so
 *    model.promoted is emitted by the registry.
 */
export interface OrchestratorPorts {
  bus: EventBus;
  /** The registry's promote (moves `champion`, publishes model.promoted). */
  promote(model: string, version: number, reason: string): Promise<unknown>;
  /** The current champion version, undefined when there is none. */
  champion(model: string): Promise<number | undefined>;
  /** Lineage of a registered version: run id and dataset id. */
  lineage(model: string, version: number): Promise<{ runId?: string; datasetId?: string }>;
  /** The monitoring service's setReference. */
  setReference(model: string, version: number, body: { rows: Record<string, number>[] }): unknown;
}

export interface OrchestratorOptions {
  model: string;
  featureView: string;
  /** Successful predictions by a canary version before it is promoted. */
  promoteAfter: number;
  /** Reference rows per version (at most; Evidently's KS regime is <= 1,000). */
  referenceRows?: number;
  log: (line: string) => void;
}

interface Canary {
  version: number;
  correlationId: string;
  predictions: number;
  promoting: boolean;
}

export class Orchestrator {
  private subscriptions: Subscription[] = [];
  private readonly datasets = new Map<string, string>();
  private readonly featuresByRun = new Map<string, string[]>();
  /** The episode in flight (correlation id) — further drift is ignored until it ends. */
  private episode?: string;
  private canary?: Canary;
  readonly stats = { driftEvents: 0, retrainsRequested: 0, driftIgnored: 0, promotions: 0, referencesSet: 0 };

  constructor(
    private readonly ports: OrchestratorPorts,
    private readonly options: OrchestratorOptions,
  ) {}

  /** Model feature names of a registered version (from training.completed), if known. */
  featuresOf(runId: string): string[] | undefined {
    return this.featuresByRun.get(runId);
  }

  get episodeInFlight(): string | undefined {
    return this.episode;
  }

  async start(): Promise<void> {
    const { bus } = this.ports;
    this.subscriptions.push(
      await bus.subscribeEvents({
        group: 'embedded-orchestrator.lineage',
        types: ['dataset.materialized', 'training.completed'],
        fromBeginning: true,
        handle: async (event) => {
          const e = event as AnyEvent;
          if (e.type === 'dataset.materialized') this.datasets.set(e.data.datasetId, e.data.uri);
          if (e.type === 'training.completed') this.featuresByRun.set(e.data.runId, (e.data.params.features ?? '').split(',').filter(Boolean));
        },
      }),
      await bus.subscribeEvents({
        group: 'embedded-orchestrator.drift',
        types: ['drift.detected'],
        handle: (event, ctx) => this.onDrift(event, ctx.publish),
      }),
      await bus.subscribeEvents({
        group: 'embedded-orchestrator.deploy',
        types: ['deployment.completed', 'training.failed'],
        handle: async (event) => {
          const e = event as AnyEvent;
          if (e.type === 'deployment.completed') await this.onDeployed(e);
          else if (e.type === 'training.failed' && e.correlationId === this.episode) this.endEpisode(`training failed: ${e.data.error}`);
        },
      }),
      await bus.subscribeEvents({
        group: 'embedded-orchestrator.canary',
        types: ['prediction.logged'],
        handle: async (event) => this.onPrediction(event),
      }),
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.subscriptions.map((s) => s.stop()));
    this.subscriptions = [];
  }

  private async onDrift(event: EventEnvelope<'drift.detected'>, publish: (e: AnyEvent) => void): Promise<void> {
    if (event.data.model !== this.options.model) return;
    this.stats.driftEvents++;
    if (this.episode) {
      this.stats.driftIgnored++;
      this.options.log(`  drift.detected ignored: retraining episode ${this.episode.slice(0, 8)} is still in flight (debounce)`);
      return;
    }
    this.episode = event.correlationId;
    this.stats.retrainsRequested++;
    const drifted = event.data.features.filter((f) => f.drifted).map((f) => f.feature);
    publish(
      causedBy(event, 'retrain.requested', {
        source: 'embedded-orchestrator',
        subject: this.options.model,
        data: {
          model: this.options.model,
          featureView: this.options.featureView,
          reason: `dataset drift on version ${event.data.version}: ${drifted.length} drifted columns (${drifted.join(', ')})`,
          triggeredBy: event.id,
        },
      }),
    );
  }

  private endEpisode(why: string): void {
    if (this.episode) this.options.log(`  episode ${this.episode.slice(0, 8)} ended: ${why}`);
    this.episode = undefined;
  }

  /** A deployed version gets its monitoring reference; the first one becomes champion at once. */
  private async onDeployed(event: EventEnvelope<'deployment.completed'>): Promise<void> {
    const { model, version, status } = event.data;
    if (model !== this.options.model) return;
    if (status !== 'serving') {
      if (event.correlationId === this.episode) this.endEpisode(`deployment of version ${version} failed: ${event.data.error}`);
      return;
    }
    await this.setReference(model, version);
    const champion = await this.ports.champion(model);
    if (champion === undefined) {
      await this.ports.promote(model, version, 'first model: no champion to compare with');
      this.stats.promotions++;
      return;
    }
    if (champion === version) return;
    this.canary = { version, correlationId: event.correlationId, predictions: 0, promoting: false };
  }

  private async setReference(model: string, version: number): Promise<void> {
    const lineage = await this.ports.lineage(model, version);
    const uri = lineage.datasetId ? this.datasets.get(lineage.datasetId) : undefined;
    const features = lineage.runId ? this.featuresByRun.get(lineage.runId) : undefined;
    if (!uri || !features?.length) {
      this.options.log(`  WARNING: no training dataset known for ${model} v${version}; monitoring has no reference for it`);
      return;
    }
    const rows = referenceRows(uri, features, this.options.referenceRows ?? 1_000);
    this.ports.setReference(model, version, { rows });
    this.stats.referencesSet++;
    this.options.log(`  monitoring reference for ${model} v${version}: ${rows.length} rows of its training dataset ${lineage.datasetId}`);
  }

  private async onPrediction(event: EventEnvelope<'prediction.logged'>): Promise<void> {
    const canary = this.canary;
    if (!canary || canary.promoting || event.data.model !== this.options.model || event.data.version !== canary.version) return;
    canary.predictions++;
    if (canary.predictions < this.options.promoteAfter) return;
    canary.promoting = true;
    await this.ports.promote(this.options.model, canary.version, `canary healthy: ${canary.predictions} successful predictions`);
    this.stats.promotions++;
    this.canary = undefined;
    if (canary.correlationId === this.episode) this.endEpisode(`version ${canary.version} promoted to champion`);
  }
}

/**
 * Up to `limit` rows of an Arrow dataset, evenly spread, as `input[i]` -> value in the
 * model's feature order (the keys serving uses in prediction.logged).
 */
export function referenceRows(uri: string, features: string[], limit: number): Record<string, number>[] {
  const table = tableFromIPC(readFileSync(uri));
  const columns = features.map((f) => {
    const column = table.getChild(f);
    if (!column) throw new Error(`dataset ${uri} has no column ${f}`);
    return column;
  });
  const step = Math.max(1, table.numRows / limit);
  const rows: Record<string, number>[] = [];
  for (let at = 0; at < table.numRows && rows.length < limit; at += step) {
    const i = Math.floor(at);
    const row: Record<string, number> = {};
    let ok = true;
    columns.forEach((c, k) => {
      const v = Number(c.get(i));
      if (!Number.isFinite(v)) ok = false;
      row[`input[${k}]`] = v;
    });
    if (ok) rows.push(row);
  }
  return rows;
}
