import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AliasEntity, ChampionHistoryEntity, type AliasRow, type ChampionHistoryRow } from './entities';
import type { RegistryTx } from './registry.transactions';

/** registry_aliases and registry_champion_history (every change of `champion`). */
@Injectable()
export class AliasRepository {
  constructor(private readonly dataSource: DataSource) {}

  find(name: string, alias: string, tx: RegistryTx = this.dataSource.manager): Promise<AliasRow | null> {
    return tx.findOne(AliasEntity, { where: { name, alias } });
  }

  /**
   * The alias row, on Postgres locked until the transaction ends (so a concurrent change
   * of the alias waits for what is decided against it); SQLite queues its transactions.
   */
  findForUpdate(tx: RegistryTx, name: string, alias: string): Promise<AliasRow | null> {
    const locking = this.dataSource.options.type === 'postgres';
    return tx.findOne(AliasEntity, { where: { name, alias }, ...(locking ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
  }

  /** The model's aliases, by alias. */
  ofModel(name: string): Promise<AliasRow[]> {
    return this.dataSource.getRepository(AliasEntity).find({ where: { name }, order: { alias: 'ASC' } });
  }

  /** The aliases pointing at one version, by alias. */
  ofVersion(name: string, version: number): Promise<AliasRow[]> {
    return this.dataSource.getRepository(AliasEntity).find({ where: { name, version }, order: { alias: 'ASC' } });
  }

  async set(row: AliasRow, tx: RegistryTx = this.dataSource.manager): Promise<void> {
    await tx.upsert(AliasEntity, [row], ['name', 'alias']);
  }

  /** Deletes the alias; false when there was none. */
  async delete(name: string, alias: string, tx: RegistryTx = this.dataSource.manager): Promise<boolean> {
    const result = await tx.delete(AliasEntity, { name, alias });
    return Boolean(result.affected);
  }

  /** Deletes the alias only where it points at `version`. */
  async deleteAt(tx: RegistryTx | undefined, name: string, alias: string, version: number): Promise<void> {
    await (tx ?? this.dataSource.manager).delete(AliasEntity, { name, alias, version });
  }

  /** Deletes the aliases of one version (or, without `version`, the model's aliases and champion history). */
  async deleteOf(tx: RegistryTx, name: string, version?: number): Promise<void> {
    if (version !== undefined) return void (await tx.delete(AliasEntity, { name, version }));
    await tx.delete(AliasEntity, { name });
    await tx.delete(ChampionHistoryEntity, { name });
  }

  /** Moves the model's aliases and champion history to a new name. */
  async rename(tx: RegistryTx, from: string, to: string): Promise<void> {
    await tx.update(AliasEntity, { name: from }, { name: to });
    await tx.update(ChampionHistoryEntity, { name: from }, { name: to });
  }

  /** The latest promotion of the model that was not rolled back. */
  lastPromotion(tx: RegistryTx, name: string): Promise<ChampionHistoryRow | null> {
    return tx.findOne(ChampionHistoryEntity, { where: { name, rolledBack: false }, order: { id: 'DESC' } });
  }

  async recordPromotion(tx: RegistryTx, row: Omit<ChampionHistoryRow, 'id'>): Promise<void> {
    await tx.insert(ChampionHistoryEntity, row);
  }

  async markRolledBack(tx: RegistryTx, promotion: ChampionHistoryRow): Promise<void> {
    await tx.update(ChampionHistoryEntity, { id: promotion.id }, { rolledBack: true });
  }
}
