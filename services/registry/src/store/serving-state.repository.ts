import { Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { ServingStateEntity, type ServingStateRow } from './entities';
import type { RegistryTx } from './registry.transactions';

/** registry_serving_state: serving's last report (deployment.completed) per model version, with its traffic share. */
@Injectable()
export class ServingStateRepository {
  constructor(private readonly dataSource: DataSource) {}

  find(name: string, version: number): Promise<ServingStateRow | null> {
    return this.dataSource.getRepository(ServingStateEntity).findOne({ where: { name, version } });
  }

  /** The loaded versions of the models (status `serving`), by name then version. */
  loaded(names: string[], tx: RegistryTx = this.dataSource.manager): Promise<ServingStateRow[]> {
    if (names.length === 0) return Promise.resolve([]);
    return tx.find(ServingStateEntity, { where: { name: In(names), status: 'serving' }, order: { name: 'ASC', version: 'ASC' } });
  }

  /** serving's last report of each of these versions of a model. */
  ofVersions(name: string, versions: number[]): Promise<ServingStateRow[]> {
    if (versions.length === 0) return Promise.resolve([]);
    return this.dataSource.getRepository(ServingStateEntity).find({ where: { name, version: In(versions) } });
  }

  async record(row: ServingStateRow, tx: RegistryTx = this.dataSource.manager): Promise<void> {
    await tx.upsert(ServingStateEntity, [row], ['name', 'version']);
  }
}
