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

  /** The model's versions, oldest first. */
  ofModel(name: string): Promise<ModelVersionRow[]> {
    return this.dataSource.getRepository(ModelVersionEntity).find({ where: { name }, order: { version: 'ASC' } });
  }

  /** The versions trained on a dataset, by name then version. */
  byDatasetHash(hash: string): Promise<ModelVersionRow[]> {
    return this.dataSource.getRepository(ModelVersionEntity).find({ where: { datasetHash: hash }, order: { name: 'ASC', version: 'ASC' } });
  }

  async insert(tx: RegistryTx, row: ModelVersionRow, tags: Omit<VersionTagRow, 'name' | 'version'>[] = []): Promise<void> {
    await tx.insert(ModelVersionEntity, row);
    if (tags.length) await tx.insert(VersionTagEntity, tags.map((t) => ({ name: row.name, version: row.version, ...t })));
  }

  async update(tx: RegistryTx, name: string, version: number, changes: Partial<Pick<ModelVersionRow, 'description' | 'lastUpdatedTime'>>): Promise<void> {
    await tx.update(ModelVersionEntity, { name, version }, changes);
  }

  async setTag(tx: RegistryTx, tag: VersionTagRow): Promise<void> {
    await tx.upsert(VersionTagEntity, [tag], ['name', 'version', 'key']);
  }

  /** Deletes a tag; false when there was none. */
  async deleteTag(tx: RegistryTx, name: string, version: number, key: string): Promise<boolean> {
    return Boolean((await tx.delete(VersionTagEntity, { name, version, key })).affected);
  }

  /** Deletes one version (or, without `version`, every version of the model) and its tags. */
  async delete(tx: RegistryTx, name: string, version?: number): Promise<void> {
    const where = version === undefined ? { name } : { name, version };
    await tx.delete(VersionTagEntity, where);
    await tx.delete(ModelVersionEntity, where);
  }

  /** Moves the model's versions and their tags to a new name. */
  async rename(tx: RegistryTx, from: string, to: string): Promise<void> {
    await tx.update(ModelVersionEntity, { name: from }, { name: to });
    await tx.update(VersionTagEntity, { name: from }, { name: to });
  }

  /** Every version tag (for search). */
  allTags(): Promise<VersionTagRow[]> {
    return this.dataSource.getRepository(VersionTagEntity).find();
  }

  /** The version's tags, by key. */
  tags(name: string, version: number): Promise<VersionTagRow[]> {
    return this.dataSource.getRepository(VersionTagEntity).find({ where: { name, version }, order: { key: 'ASC' } });
  }
}
