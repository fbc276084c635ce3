import { Injectable } from '@nestjs/common';
import type { EventOf } from '@mlops/contracts';
import type { DatasetRow, RunRow, VersionRow } from '../store/entities';
import type { StoreTransaction } from '../store/monitoring.repository';

export type LineageEventType = 'dataset.materialized' | 'training.completed' | 'model.registered';

/** What a version's training reference is built from, or what is still missing for it. */
export type Lineage = { missing: string } | { datasetId: string; uri: string; features: string[] };

const keyOf = (model: string, version: number) => `${model}\u0000${version}`;

/**
 * Lineage facts from events (the one owner of them in memory): dataset id -> uri; run id ->
 * dataset id, feature order and training metrics; model version -> run id.
 */
@Injectable()
export class LineageFacts {
  private readonly datasets = new Map<string, DatasetRow>();
  private readonly runs = new Map<string, RunRow>();
  private readonly versionRuns = new Map<string, string | null>();

  restore(stored: { datasets: DatasetRow[]; runs: RunRow[]; versions: VersionRow[] }): void {
    stored.datasets.forEach((d) => this.datasets.set(d.datasetId, d));
    stored.runs.forEach((r) => this.runs.set(r.runId, r));
    stored.versions.forEach((v) => this.versionRuns.set(keyOf(v.model, v.version), v.runId));
  }

  /** Writes the fact an event carries in `tx`; returns how to apply it in memory once committed. */
  async record(tx: StoreTransaction, event: EventOf<LineageEventType>): Promise<() => void> {
    switch (event.type) {
      case 'dataset.materialized': {
        const row = { datasetId: event.data.datasetId, uri: event.data.uri, schema: JSON.stringify(event.data.schema) };
        await tx.saveDataset(row);
        return () => this.datasets.set(row.datasetId, row);
      }
      case 'training.completed': {
        const features = (event.data.params.features ?? '').split(',').map((f) => f.trim()).filter(Boolean);
        const row = { runId: event.data.runId, model: event.data.model, datasetId: event.data.datasetId ?? null, features: JSON.stringify(features), metrics: JSON.stringify(event.data.metrics) };
        await tx.saveRun(row);
        return () => this.runs.set(row.runId, row);
      }
      case 'model.registered': {
        const row = { model: event.data.model, version: event.data.version, runId: event.data.runId ?? null };
        await tx.saveVersion(row);
        return () => this.versionRuns.set(keyOf(row.model, row.version), row.runId);
      }
    }
  }

  /** What is still missing for a version's training reference, or its dataset and features. */
  lineageOf(model: string, version: number): Lineage {
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

  /** The metric the version's training run reported, if any. */
  trainingMetric(model: string, version: number, metric: string): number | undefined {
    const runId = this.versionRuns.get(keyOf(model, version));
    const run = runId ? this.runs.get(runId) : undefined;
    const trained = run ? (JSON.parse(run.metrics) as Record<string, number>)[metric] : undefined;
    return typeof trained === 'number' ? trained : undefined;
  }

  /** `model\0version` of every registered version. */
  versionKeys(): IterableIterator<string> {
    return this.versionRuns.keys();
  }
}
