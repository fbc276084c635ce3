import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { inTransaction } from '@mlops/persistence';
import { RunDatasetEntity, RunModelInputEntity, RunOutputEntity, type RunDatasetRow, type RunOutputRow } from './model-entities';

/** A run's inputs (datasets, logged models) and outputs (logged models): tracking_run_datasets, _model_inputs, _outputs. */
@Injectable()
export class RunIoRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Datasets and model inputs in one transaction; an input logged again is replaced. */
  async upsertInputs(runUuid: string, datasets: Omit<RunDatasetRow, 'runUuid'>[], modelIds: string[]): Promise<void> {
    await inTransaction(this.dataSource, async (tx) => {
      if (datasets.length) await tx.upsert(RunDatasetEntity, datasets.map((d) => ({ runUuid, ...d })), ['runUuid', 'name', 'digest']);
      if (modelIds.length) await tx.upsert(RunModelInputEntity, modelIds.map((modelId) => ({ runUuid, modelId })), ['runUuid', 'modelId']);
    });
  }

  async upsertOutputs(rows: RunOutputRow[]): Promise<void> {
    if (rows.length) await this.dataSource.getRepository(RunOutputEntity).upsert(rows, ['runUuid', 'modelId']);
  }
}
