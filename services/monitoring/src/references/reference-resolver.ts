import { Inject, Injectable } from '@nestjs/common';
import type { EventOf } from '@mlops/contracts';
import { DriftWatch } from '../drift/drift-watch';
import type { ReferenceBody, ReferenceSource } from '../drift/reference-body';
import { MonitoringMetrics } from '../metrics';
import { MONITORING_SETTINGS, type MonitoringSettings } from '../monitoring.settings';
import { CLOCK, MONITORING_LOG, type Clock, type MonitoringLog } from '../monitoring.tokens';
import { WriteLane } from '../state/write-lane';
import type { ReferenceRow } from '../store/entities';
import { MonitoringRepository } from '../store/monitoring.repository';
import { LineageFacts, type LineageEventType } from './lineage-facts';
import { trainingReferenceRows } from './training-reference';

const keyOf = (model: string, version: number) => `${model}\u0000${version}`;

/**
 * The stored drift reference of each version (the one owner of the reference rows): built
 * from the training dataset its lineage names (waiting for lineage events that are still
 * missing), set by hand, or learned from the first predictions; rebuilt into DriftWatch at
 * start.
 */
@Injectable()
export class ReferenceResolver {
  private readonly references = new Map<string, ReferenceRow>();

  constructor(
    private readonly drift: DriftWatch,
    private readonly lineage: LineageFacts,
    private readonly store: MonitoringRepository,
    private readonly lane: WriteLane,
    private readonly metrics: MonitoringMetrics,
    @Inject(MONITORING_SETTINGS) private readonly settings: MonitoringSettings,
    @Inject(CLOCK) private readonly now: Clock,
    @Inject(MONITORING_LOG) private readonly log: MonitoringLog,
  ) {}

  /** Stored references: kept, and the ready ones rebuilt into their drift windows. */
  restore(rows: ReferenceRow[]): void {
    for (const reference of rows) {
      this.references.set(keyOf(reference.model, reference.version), reference);
      if (reference.status !== 'ready' || !reference.body) continue;
      try {
        this.drift.setReference(reference.model, reference.version, JSON.parse(reference.body), (reference.source ?? 'http') as ReferenceSource);
      } catch (error) {
        this.log.error(`stored reference of ${reference.model} v${reference.version} could not be rebuilt: ${(error as Error).message}`);
      }
    }
  }

  /** The stored reference row of a version, if any. */
  of(model: string, version: number): ReferenceRow | undefined {
    return this.references.get(keyOf(model, version));
  }

  /** Every stored reference row (keys `model\0version`). */
  rows(): ReadonlyMap<string, ReferenceRow> {
    return this.references;
  }

  /** dataset.materialized, training.completed, model.registered: facts a reference needs later. */
  onLineage(event: EventOf<LineageEventType>): Promise<void> {
    return this.lane.run(async () => {
      let apply: () => void = () => undefined;
      const outcome = await this.store.once('lineage', event.id, async (tx) => {
        apply = await this.lineage.record(tx, event);
      });
      if (!outcome.applied) return;
      apply();
      await this.resolveWaiting();
    });
  }

  /** A deployed version without a drift reference waits for one from its training dataset. */
  needsTrainingReference(model: string, version: number): boolean {
    return !this.drift.hasReference(model, version);
  }

  /** The row stored for a deployed version while its reference is not resolved yet. */
  waitingRow(model: string, version: number): ReferenceRow {
    return { model, version, status: 'waiting-for-lineage', source: 'training-dataset', body: null, datasetId: null, problem: 'waiting for lineage', updatedAt: this.now() };
  }

  /** Retries every reference waiting for lineage (in the write lane). */
  async resolveWaiting(): Promise<void> {
    for (const reference of [...this.references.values()]) {
      if (reference.status === 'waiting-for-lineage') await this.resolve(reference.model, reference.version);
    }
  }

  /** Builds a deployed version's reference from its training dataset, or records why not (in the write lane). */
  async resolve(model: string, version: number): Promise<void> {
    const lineage = this.lineage.lineageOf(model, version);
    const base = { model, version, source: 'training-dataset', updatedAt: this.now() };
    let row: ReferenceRow;
    if ('missing' in lineage) {
      const problem = `waiting for ${lineage.missing}`;
      const current = this.references.get(keyOf(model, version));
      if (current?.status === 'waiting-for-lineage' && current.problem === problem) return;
      row = { ...base, status: 'waiting-for-lineage', body: null, datasetId: null, problem };
    } else {
      try {
        const rows = await trainingReferenceRows(lineage.uri, lineage.features, this.settings.references.trainingRows);
        const { body } = this.drift.setReference(model, version, { rows }, 'training-dataset');
        row = { ...base, status: 'ready', body: JSON.stringify(body), datasetId: lineage.datasetId, problem: null };
        this.log.log(`reference for ${model} v${version}: ${rows.length} rows of its training dataset ${lineage.datasetId}`);
      } catch (error) {
        const problem = (error as Error).message;
        row = { ...base, status: 'unavailable', body: null, datasetId: lineage.datasetId, problem };
        this.log.warn(`no drift reference for ${model} v${version}: ${problem}`);
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

  /** Stores a reference the drift windows learned from a version's first predictions. */
  referenceLearned(model: string, version: number, body: ReferenceBody): void {
    void this.storeReference(model, version, body, 'first-predictions').catch((error) =>
      this.log.error(`learned reference of ${model} v${version} not stored: ${(error as Error).message}`),
    );
  }

  private storeReference(model: string, version: number, body: ReferenceBody, source: ReferenceSource): Promise<void> {
    const row: ReferenceRow = { model, version, status: 'ready', source, body: JSON.stringify(body), datasetId: null, problem: null, updatedAt: this.now() };
    return this.lane.run(async () => {
      await this.store.transaction((tx) => tx.saveReference(row));
      this.references.set(keyOf(model, version), row);
      this.metrics.referenceReady.set({ model, version: String(version) }, 1);
    });
  }
}
