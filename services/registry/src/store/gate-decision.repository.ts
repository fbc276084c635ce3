import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { GateDecisionEntity, type GateDecisionRow } from './entities';
import type { RegistryTx } from './registry.transactions';

/** registry_gate_decisions: one quality gate decision per version registered from training. */
@Injectable()
export class GateDecisionRepository {
  constructor(private readonly dataSource: DataSource) {}

  find(name: string, version: number): Promise<GateDecisionRow | null> {
    return this.dataSource.getRepository(GateDecisionEntity).findOne({ where: { name, version } });
  }

  async insert(tx: RegistryTx, row: GateDecisionRow): Promise<void> {
    await tx.insert(GateDecisionEntity, row);
  }
}
