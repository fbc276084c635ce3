import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { inTransaction } from '@mlops/persistence';
import type { KeyValue } from '../runs/run';
import { ExperimentEntity, ExperimentTagEntity, type ExperimentRow } from './entities';

/** A transaction over the experiment tables, opened by ExperimentRepository.transaction. */
export type ExperimentTx = EntityManager;

/** tracking_experiments and tracking_experiment_tags. */
@Injectable()
export class ExperimentRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (tx: ExperimentTx) => Promise<T>): Promise<T> {
    return inTransaction(this.dataSource, work);
  }

  existsByName(name: string, tx: ExperimentTx = this.dataSource.manager): Promise<boolean> {
    return tx.exists(ExperimentEntity, { where: { name } });
  }

  /** Inserts the experiment; returns its new id. */
  async insert(tx: ExperimentTx, row: Omit<ExperimentRow, 'experimentId'>): Promise<number> {
    const result = await tx.insert(ExperimentEntity, row);
    return Number(result.identifiers[0].experimentId);
  }

  async setArtifactLocation(tx: ExperimentTx, experimentId: number, artifactLocation: string): Promise<void> {
    await tx.update(ExperimentEntity, { experimentId }, { artifactLocation });
  }

  async insertTags(tx: ExperimentTx, experimentId: number, tags: KeyValue[]): Promise<void> {
    await tx.insert(ExperimentTagEntity, tags.map((t) => ({ experimentId, key: t.key, value: String(t.value) })));
  }

  findById(experimentId: number, tx: ExperimentTx = this.dataSource.manager): Promise<ExperimentRow | null> {
    return tx.findOne(ExperimentEntity, { where: { experimentId } });
  }

  findByName(name: string): Promise<ExperimentRow | null> {
    return this.dataSource.getRepository(ExperimentEntity).findOne({ where: { name } });
  }

  /** Every experiment in the stage (all of them without one), by id. */
  list(stage: string | undefined): Promise<ExperimentRow[]> {
    return this.dataSource.getRepository(ExperimentEntity).find({
      where: stage ? { lifecycleStage: stage } : {},
      order: { experimentId: 'ASC' },
    });
  }

  /** An experiment's tags by key. */
  async tags(experimentId: number): Promise<KeyValue[]> {
    const rows = await this.dataSource.getRepository(ExperimentTagEntity).find({ where: { experimentId }, order: { key: 'ASC' } });
    return rows.map((t) => ({ key: t.key, value: t.value }));
  }

  async upsertTag(experimentId: number, tag: KeyValue): Promise<void> {
    await this.dataSource.getRepository(ExperimentTagEntity).upsert([{ experimentId, key: tag.key, value: tag.value }], ['experimentId', 'key']);
  }

  /** False when the experiment has no such tag. */
  async deleteTag(experimentId: number, key: string): Promise<boolean> {
    const result = await this.dataSource.getRepository(ExperimentTagEntity).delete({ experimentId, key });
    return !!result.affected;
  }

  async rename(tx: ExperimentTx, experimentId: number, name: string, lastUpdateTime: number): Promise<void> {
    await tx.update(ExperimentEntity, { experimentId }, { name, lastUpdateTime });
  }

  /** False when there is no such experiment. */
  async setLifecycle(experimentId: number, lifecycleStage: string, lastUpdateTime: number): Promise<boolean> {
    const result = await this.dataSource.getRepository(ExperimentEntity).update({ experimentId }, { lifecycleStage, lastUpdateTime });
    return !!result.affected;
  }
}
