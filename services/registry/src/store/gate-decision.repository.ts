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

  /** Deletes the decision of one version, or of every version of the model. */
  async delete(tx: RegistryTx, name: string, version?: number): Promise<void> {
    await tx.delete(GateDecisionEntity, version === undefined ? { name } : { name, version });
  }

  async rename(tx: RegistryTx, from: string, to: string): Promise<void> {
    await tx.update(GateDecisionEntity, { name: from }, { name: to });
  }

  /** A decision's outcome after serving reported a check it made (deployment.completed `checks`). */
  async updateOutcome(name: string, version: number, outcome: Pick<GateDecisionRow, 'passed' | 'reason' | 'checks'>): Promise<void> {
    await this.dataSource.getRepository(GateDecisionEntity).update({ name, version }, outcome);
  }

  async insert(tx: RegistryTx, row: GateDecisionRow): Promise<void> {
    await tx.insert(GateDecisionEntity, row);
  }
}
