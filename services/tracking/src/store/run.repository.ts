import { Injectable } from '@nestjs/common';
import { DataSource, In, type EntityManager } from 'typeorm';
import { inTransaction } from '@mlops/persistence';
import { RUN_NAME_TAG, type DatasetInput, type KeyValue, type RunWithData } from '../runs/run';
import { RunDatasetEntity, RunModelInputEntity, RunOutputEntity, type RunDatasetRow, type RunModelInputRow, type RunOutputRow } from './model-entities';
import { LatestMetricEntity, ParamEntity, RunEntity, TagEntity, type KeyValueRow, type LatestMetricRow, type RunRow } from './entities';

/** A transaction over the run tables, opened by RunRepository.transaction. */
export type RunTx = EntityManager;

/** Ids per `IN (...)` when reading runs with their data. */
const IDS_PER_QUERY = 500;

/**
 * tracking_runs and the tags set outside log-batch (at create, by a rename, delete-tag); reads
 * runs with their params, tags and latest metrics. Log-batch writes go through RunLogStore.
 */
@Injectable()
export class RunRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (tx: RunTx) => Promise<T>): Promise<T> {
    return inTransaction(this.dataSource, work);
  }

  find(runUuid: string, tx: RunTx = this.dataSource.manager): Promise<RunRow | null> {
    return tx.findOne(RunEntity, { where: { runUuid } });
  }

  /** The run and its tags, in one transaction. */
  async insert(run: RunRow, tags: KeyValue[]): Promise<void> {
    await this.transaction(async (tx) => {
      await tx.insert(RunEntity, run);
      await tx.insert(TagEntity, tags.map((t) => ({ runUuid: run.runUuid, ...t })));
    });
  }

  /** Status, end time and name as in `run`. */
  async updateInfo(tx: RunTx, run: RunRow): Promise<void> {
    await tx.update(RunEntity, { runUuid: run.runUuid }, { status: run.status, endTime: run.endTime, name: run.name });
  }

  async setNameTag(tx: RunTx, runUuid: string, name: string): Promise<void> {
    await tx.upsert(TagEntity, [{ runUuid, key: RUN_NAME_TAG, value: name }], ['runUuid', 'key']);
  }

  async setLifecycle(runUuid: string, lifecycleStage: string): Promise<void> {
    await this.dataSource.getRepository(RunEntity).update({ runUuid }, { lifecycleStage });
  }

  /** False when the run has no such tag. */
  async deleteTag(runUuid: string, key: string): Promise<boolean> {
    const result = await this.dataSource.getRepository(TagEntity).delete({ runUuid, key });
    return !!result.affected;
  }

  /** Full runs (info + latest metrics, params, tags, each by key), in the order of `ids`; unknown ids are left out. */
  async findWithData(ids: string[]): Promise<RunWithData[]> {
    if (ids.length === 0) return [];
    const runs: RunRow[] = [];
    const params: KeyValueRow[] = [];
    const tags: KeyValueRow[] = [];
    const metrics: LatestMetricRow[] = [];
    const datasets: RunDatasetRow[] = [];
    const modelInputs: RunModelInputRow[] = [];
    const outputs: RunOutputRow[] = [];
    for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
      const chunk = In(ids.slice(i, i + IDS_PER_QUERY));
      runs.push(...(await this.dataSource.getRepository(RunEntity).find({ where: { runUuid: chunk } })));
      params.push(...(await this.dataSource.getRepository(ParamEntity).find({ where: { runUuid: chunk }, order: { key: 'ASC' } })));
      tags.push(...(await this.dataSource.getRepository(TagEntity).find({ where: { runUuid: chunk }, order: { key: 'ASC' } })));
      metrics.push(...(await this.dataSource.getRepository(LatestMetricEntity).find({ where: { runUuid: chunk }, order: { key: 'ASC' } })));
      datasets.push(...(await this.dataSource.getRepository(RunDatasetEntity).find({ where: { runUuid: chunk }, order: { name: 'ASC', digest: 'ASC' } })));
      modelInputs.push(...(await this.dataSource.getRepository(RunModelInputEntity).find({ where: { runUuid: chunk }, order: { modelId: 'ASC' } })));
      outputs.push(...(await this.dataSource.getRepository(RunOutputEntity).find({ where: { runUuid: chunk }, order: { step: 'ASC', modelId: 'ASC' } })));
    }
    const byRun = <T extends { runUuid: string }>(rows: T[]) => {
      const map = new Map<string, T[]>();
      for (const row of rows) map.set(row.runUuid, [...(map.get(row.runUuid) ?? []), row]);
      return map;
    };
    const runById = new Map(runs.map((r) => [r.runUuid, r]));
    const [p, t, m] = [byRun(params), byRun(tags), byRun(metrics)];
    const [d, mi, o] = [byRun(datasets), byRun(modelInputs), byRun(outputs)];
    const keyValue = (r: KeyValueRow): KeyValue => ({ key: r.key, value: r.value });
    return ids
      .filter((id) => runById.has(id))
      .map((id) => ({
        info: runById.get(id)!,
        metrics: m.get(id) ?? [],
        params: (p.get(id) ?? []).map(keyValue),
        tags: (t.get(id) ?? []).map(keyValue),
        inputs: { datasets: (d.get(id) ?? []).map(datasetInput), modelIds: (mi.get(id) ?? []).map((r) => r.modelId) },
        outputs: (o.get(id) ?? []).map((r) => ({ modelId: r.modelId, step: r.step })),
      }));
  }
}

function datasetInput(row: RunDatasetRow): DatasetInput {
  return {
    dataset: {
      name: row.name,
      digest: row.digest,
      sourceType: row.sourceType,
      source: row.source,
      ...(row.schema !== null ? { schema: row.schema } : {}),
      ...(row.profile !== null ? { profile: row.profile } : {}),
    },
    tags: JSON.parse(row.tags) as KeyValue[],
  };
}
