import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { inTransaction } from '@mlops/persistence';
import { DatasetEntity, type DatasetRecord } from '../offline/feature-row.entity';

/** The transaction a new dataset version is numbered and recorded in. */
export type DatasetTx = EntityManager;

/** The feature_store_datasets table: every materialized snapshot, versioned per view. */
@Injectable()
export class DatasetRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (tx: DatasetTx) => Promise<T>): Promise<T> {
    return inTransaction(this.dataSource, work);
  }

  /** The first version of the view whose snapshot has this hash. */
  async withHash(tx: DatasetTx, view: string, hash: string): Promise<DatasetRecord | null> {
    return tx.getRepository(DatasetEntity).findOne({ where: { view, hash }, order: { version: 'ASC' } });
  }

  /** The view's latest version number; 0 when it has none. */
  async latestVersion(tx: DatasetTx, view: string): Promise<number> {
    const latest = await tx.getRepository(DatasetEntity).findOne({ where: { view }, order: { version: 'DESC' } });
    return latest?.version ?? 0;
  }

  async insert(tx: DatasetTx, record: DatasetRecord): Promise<void> {
    await tx.getRepository(DatasetEntity).insert(record);
  }

  find(view: string, version: number): Promise<DatasetRecord | null> {
    return this.dataSource.getRepository(DatasetEntity).findOne({ where: { view, version } });
  }
}
