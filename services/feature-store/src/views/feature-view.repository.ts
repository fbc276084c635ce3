import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { inTransaction } from '@mlops/persistence';
import { FeatureViewEntity, type FeatureViewRecord } from './feature-view.entity';

/** The feature_store_views table: every version of every view, numbered per name. */
@Injectable()
export class FeatureViewRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The latest version of every view. */
  async latest(): Promise<FeatureViewRecord[]> {
    const all = await this.dataSource.getRepository(FeatureViewEntity).find({ order: { name: 'ASC', version: 'ASC' } });
    const byName = new Map<string, FeatureViewRecord>();
    for (const record of all) byName.set(record.name, record);
    return [...byName.values()];
  }

  /**
   * Stores `definition` as the view's next version unless it equals the latest one; returns
   * the version in force and whether it was new. One transaction: two concurrent PUTs of the
   * same name cannot both take version N+1 (the primary key rejects the second).
   */
  save(name: string, definition: string): Promise<{ version: number; changed: boolean }> {
    return inTransaction(this.dataSource, async (tx) => {
      const repo = tx.getRepository(FeatureViewEntity);
      const latest = await repo.findOne({ where: { name }, order: { version: 'DESC' } });
      if (latest && latest.definition === definition) return { version: latest.version, changed: false };
      const version = (latest?.version ?? 0) + 1;
      await repo.insert({ name, version, definition, createdAt: new Date() });
      return { version, changed: true };
    });
  }
}
