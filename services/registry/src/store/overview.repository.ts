import { Injectable } from '@nestjs/common';
import { DataSource, In, LessThan, MoreThan } from 'typeorm';
import { AliasEntity, GateDecisionEntity, ModelVersionEntity, RegisteredModelEntity, type AliasRow, type GateDecisionRow, type ModelVersionRow, type RegisteredModelRow } from './entities';

/** Keyset pages over the registry's tables for the lifecycle listings (no table is read whole). */
@Injectable()
export class OverviewRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Up to `limit` models after `after`, by name. */
  modelsAfter(after: string | undefined, limit: number): Promise<RegisteredModelRow[]> {
    return this.dataSource.getRepository(RegisteredModelEntity).find({ where: after === undefined ? {} : { name: MoreThan(after) }, order: { name: 'ASC' }, take: limit });
  }

  /** Up to `limit` versions of a model below `before`, newest first. */
  versionsBefore(name: string, before: number | undefined, limit: number): Promise<ModelVersionRow[]> {
    return this.dataSource
      .getRepository(ModelVersionEntity)
      .find({ where: before === undefined ? { name } : { name, version: LessThan(before) }, order: { version: 'DESC' }, take: limit });
  }

  /** One alias (e.g. `champion`) of each model. */
  aliasOf(names: string[], alias: string): Promise<AliasRow[]> {
    return names.length ? this.dataSource.getRepository(AliasEntity).find({ where: { name: In(names), alias } }) : Promise.resolve([]);
  }

  /** The number of versions of each model. */
  async versionCounts(names: string[]): Promise<Map<string, number>> {
    if (names.length === 0) return new Map();
    const rows = await this.dataSource
      .getRepository(ModelVersionEntity)
      .createQueryBuilder('v')
      .select('v.name', 'name')
      .addSelect('COUNT(*)', 'count')
      .where('v.name IN (:...names)', { names })
      .groupBy('v.name')
      .getRawMany<{ name: string; count: string | number }>();
    return new Map(rows.map((r) => [r.name, Number(r.count)]));
  }

  /** The aliases of some versions of a model, by alias. */
  aliasesOfVersions(name: string, versions: number[]): Promise<AliasRow[]> {
    return versions.length ? this.dataSource.getRepository(AliasEntity).find({ where: { name, version: In(versions) }, order: { alias: 'ASC' } }) : Promise.resolve([]);
  }

  /** The gate decisions of some versions of a model. */
  gatesOfVersions(name: string, versions: number[]): Promise<GateDecisionRow[]> {
    return versions.length ? this.dataSource.getRepository(GateDecisionEntity).find({ where: { name, version: In(versions) } }) : Promise.resolve([]);
  }
}
