import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ReleasePolicyEntity, type ReleasePolicyRow } from './entities';
import type { RegistryTx } from './registry.transactions';

/** registry_release_policies: every version of each model's release policy. */
@Injectable()
export class ReleasePolicyRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The newest version, read in `tx` when given. */
  current(name: string, tx?: RegistryTx): Promise<ReleasePolicyRow | null> {
    return (tx ?? this.dataSource.manager).getRepository(ReleasePolicyEntity).findOne({ where: { name }, order: { version: 'DESC' } });
  }

  /** Every version, newest first. */
  history(name: string): Promise<ReleasePolicyRow[]> {
    return this.dataSource.getRepository(ReleasePolicyEntity).find({ where: { name }, order: { version: 'DESC' } });
  }

  async insert(tx: RegistryTx, row: ReleasePolicyRow): Promise<void> {
    await tx.insert(ReleasePolicyEntity, row);
  }
}
