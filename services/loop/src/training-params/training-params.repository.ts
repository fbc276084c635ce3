import { Injectable } from '@nestjs/common';
import { DataSource, EntitySchema, type EntityManager } from 'typeorm';

/** The training params set for a model at run time, as stored (params is a JSON object). */
export interface TrainingParamsRow {
  model: string;
  params: string;
  /** Epoch ms. */
  updatedAt: number;
}

export const TrainingParamsEntity = new EntitySchema<TrainingParamsRow>({
  name: 'LoopTrainingParams',
  tableName: 'loop_training_params',
  columns: {
    model: { type: String, primary: true, length: 200 },
    params: { type: 'text' },
    updatedAt: { type: 'bigint', name: 'updated_at', transformer: { to: (v: number) => v, from: (v: string | number) => Number(v) } },
  },
});

/** The loop_training_params table. */
@Injectable()
export class TrainingParamsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The model's params; read in the caller's transaction when given (a trigger opening a loop). */
  find(model: string, tx: EntityManager = this.dataSource.manager): Promise<TrainingParamsRow | null> {
    return tx.getRepository(TrainingParamsEntity).findOne({ where: { model } });
  }

  async save(row: TrainingParamsRow): Promise<void> {
    await this.dataSource.getRepository(TrainingParamsEntity).save(row);
  }
}
