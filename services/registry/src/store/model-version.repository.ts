import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ModelVersionEntity, VersionTagEntity, type ModelVersionRow, type VersionTagRow } from './entities';
import type { RegistryTx } from './registry.transactions';

/** registry_model_versions and registry_version_tags. */
@Injectable()
export class ModelVersionRepository {
  constructor(private readonly dataSource: DataSource) {}

  find(name: string, version: number, tx: RegistryTx = this.dataSource.manager): Promise<ModelVersionRow | null> {
    return tx.findOne(ModelVersionEntity, { where: { name, version } });
  }

  /** The model's highest version. */
  latest(name: string, tx: RegistryTx = this.dataSource.manager): Promise<ModelVersionRow | null> {
    return tx.findOne(ModelVersionEntity, { where: { name }, order: { version: 'DESC' } });
  }

  /** The version a training.completed registered. */
  bySourceEvent(eventId: string): Promise<ModelVersionRow | null> {
    return this.dataSource.getRepository(ModelVersionEntity).findOne({ where: { sourceEventId: eventId } });
  }

  /** The version a training.completed registered, which must exist. */
  bySourceEventOrFail(eventId: string): Promise<ModelVersionRow> {
    return this.dataSource.getRepository(ModelVersionEntity).findOneOrFail({ where: { sourceEventId: eventId } });
  }

  /** Every version, by name then newest first. */
  all(): Promise<ModelVersionRow[]> {
    return this.dataSource.getRepository(ModelVersionEntity).find({ order: { name: 'ASC', version: 'DESC' } });
  }

  /** The versions trained on a dataset, by name then version. */
  byDatasetHash(hash: string): Promise<ModelVersionRow[]> {
    return this.dataSource.getRepository(ModelVersionEntity).find({ where: { datasetHash: hash }, order: { name: 'ASC', version: 'ASC' } });
  }

  async insert(tx: RegistryTx, row: ModelVersionRow, tags: Omit<VersionTagRow, 'name' | 'version'>[] = []): Promise<void> {
    await tx.insert(ModelVersionEntity, row);
    if (tags.length) await tx.insert(VersionTagEntity, tags.map((t) => ({ name: row.name, version: row.version, ...t })));
  }

  /** The version's tags, by key. */
  tags(name: string, version: number): Promise<VersionTagRow[]> {
    return this.dataSource.getRepository(VersionTagEntity).find({ where: { name, version }, order: { key: 'ASC' } });
  }
}
