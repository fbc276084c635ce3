import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { inTransaction } from '@mlops/persistence';
import { dataContractSchema, type DataContract, type RegisteredContract } from './data-contract';
import { DataContractEntity, type DataContractRow } from './data-contract.entity';

function toContract(row: DataContractRow): RegisteredContract {
  return {
    source: row.source,
    version: row.version,
    contract: dataContractSchema.parse(JSON.parse(row.definition)),
    createdAt: new Date(row.createdAt),
  };
}

/** Versioned data contracts per source in the service's own table. */
@Injectable()
export class DataContractRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Stores a new version, unless it is identical to the latest one. */
  register(source: string, contract: DataContract): Promise<{ registered: RegisteredContract; changed: boolean }> {
    return inTransaction(this.dataSource, async (manager) => {
      const repo = manager.getRepository(DataContractEntity);
      const latest = await repo.findOne({ where: { source }, order: { version: 'DESC' } });
      const definition = JSON.stringify(contract);
      if (latest && latest.definition === definition) return { registered: toContract(latest), changed: false };
      const row = { source, version: (latest?.version ?? 0) + 1, definition, createdAt: new Date() };
      await repo.insert(row);
      return { registered: toContract(row), changed: true };
    });
  }

  async latest(source: string): Promise<RegisteredContract | undefined> {
    const row = await this.dataSource
      .getRepository(DataContractEntity)
      .findOne({ where: { source }, order: { version: 'DESC' } });
    return row ? toContract(row) : undefined;
  }

  /** The latest version of every source. */
  async allLatest(): Promise<RegisteredContract[]> {
    const rows = await this.dataSource.getRepository(DataContractEntity).find({ order: { source: 'ASC', version: 'DESC' } });
    const seen = new Set<string>();
    return rows.filter((r) => !seen.has(r.source) && seen.add(r.source)).map(toContract);
  }
}
