import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ModelTagEntity, RegisteredModelEntity, type ModelTagRow, type RegisteredModelRow } from './entities';
import type { RegistryTx } from './registry.transactions';

/** registry_models and registry_model_tags. */
@Injectable()
export class RegisteredModelRepository {
  constructor(private readonly dataSource: DataSource) {}

  find(name: string, tx: RegistryTx = this.dataSource.manager): Promise<RegisteredModelRow | null> {
    return tx.findOne(RegisteredModelEntity, { where: { name } });
  }

  exists(tx: RegistryTx, name: string): Promise<boolean> {
    return tx.exists(RegisteredModelEntity, { where: { name } });
  }

  /** Every model, by name. */
  all(): Promise<RegisteredModelRow[]> {
    return this.dataSource.getRepository(RegisteredModelEntity).find({ order: { name: 'ASC' } });
  }

  async insert(tx: RegistryTx, row: RegisteredModelRow, tags: Omit<ModelTagRow, 'name'>[] = []): Promise<void> {
    await tx.insert(RegisteredModelEntity, row);
    if (tags.length) await tx.insert(ModelTagEntity, tags.map((t) => ({ name: row.name, ...t })));
  }

  async touch(tx: RegistryTx, name: string, lastUpdatedTime: number): Promise<void> {
    await tx.update(RegisteredModelEntity, { name }, { lastUpdatedTime });
  }

  async update(tx: RegistryTx, name: string, changes: Partial<Omit<RegisteredModelRow, 'name'>>): Promise<void> {
    await tx.update(RegisteredModelEntity, { name }, changes);
  }

  async setTag(tx: RegistryTx, tag: ModelTagRow): Promise<void> {
    await tx.upsert(ModelTagEntity, [tag], ['name', 'key']);
  }

  /** Deletes a tag; false when there was none. */
  async deleteTag(tx: RegistryTx, name: string, key: string): Promise<boolean> {
    return Boolean((await tx.delete(ModelTagEntity, { name, key })).affected);
  }

  /** Moves the model and its tags to a new name. */
  async rename(tx: RegistryTx, from: string, to: string, lastUpdatedTime: number): Promise<void> {
    const row = await tx.findOneOrFail(RegisteredModelEntity, { where: { name: from } });
    await tx.insert(RegisteredModelEntity, { ...row, name: to, lastUpdatedTime });
    await tx.update(ModelTagEntity, { name: from }, { name: to });
    await tx.delete(RegisteredModelEntity, { name: from });
  }

  async delete(tx: RegistryTx, name: string): Promise<void> {
    await tx.delete(ModelTagEntity, { name });
    await tx.delete(RegisteredModelEntity, { name });
  }

  /** Every model tag (for search). */
  allTags(): Promise<ModelTagRow[]> {
    return this.dataSource.getRepository(ModelTagEntity).find();
  }

  /** The model's tags, by key. */
  tags(name: string): Promise<ModelTagRow[]> {
    return this.dataSource.getRepository(ModelTagEntity).find({ where: { name }, order: { key: 'ASC' } });
  }
}
