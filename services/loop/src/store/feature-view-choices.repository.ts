import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { FeatureViewChoiceEntity, type FeatureViewChoiceRow } from './entities';

/** The loop_feature_views table: the feature view set for a model at run time. */
@Injectable()
export class FeatureViewChoicesRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The model's choice; read in the caller's transaction when given (a drift opening a loop). */
  find(model: string, tx: EntityManager = this.dataSource.manager): Promise<FeatureViewChoiceRow | null> {
    return tx.getRepository(FeatureViewChoiceEntity).findOne({ where: { model } });
  }

  async save(row: FeatureViewChoiceRow): Promise<void> {
    await this.dataSource.getRepository(FeatureViewChoiceEntity).save(row);
  }
}
