import { Inject, Injectable } from '@nestjs/common';
import { LOOP_CLOCK, LOOP_LOG, type LoopClock, type LoopLog } from '../loop.settings';
import type { LoopTx } from '../store/loop.repository';
import { TrainingParamsRepository } from './training-params.repository';

export interface ModelTrainingParams {
  model: string;
  /** What the model's retrains train with, over the trainer's TRAINER_PARAMS; {} when none is set. */
  params: Record<string, unknown>;
  /** Set over the API, or none (the trainer's defaults alone). */
  from: 'api' | 'none';
  updatedAt?: string;
}

/**
 * The training params of each model's retrains (`mlops apply` sets the project's), put into
 * its loops' retrain.requested: the feature store passes them on with the dataset and the
 * trainer's job trains with them. The trainer checks them (a bad one fails the job, named in
 * training.failed): the loop knows no trainer's params.
 */
@Injectable()
export class TrainingParams {
  constructor(
    private readonly rows: TrainingParamsRepository,
    @Inject(LOOP_CLOCK) private readonly now: LoopClock,
    @Inject(LOOP_LOG) private readonly log: LoopLog,
  ) {}

  async of(model: string, tx?: LoopTx): Promise<ModelTrainingParams> {
    const row = await this.rows.find(model, tx);
    if (!row) return { model, params: {}, from: 'none' };
    return { model, params: JSON.parse(row.params) as Record<string, unknown>, from: 'api', updatedAt: new Date(row.updatedAt).toISOString() };
  }

  async set(model: string, params: Record<string, unknown>): Promise<ModelTrainingParams> {
    const updatedAt = this.now();
    await this.rows.save({ model, params: JSON.stringify(params), updatedAt });
    this.log.log(`model ${model}: its retrains now train with ${JSON.stringify(params)}`);
    return { model, params, from: 'api', updatedAt: new Date(updatedAt).toISOString() };
  }
}
