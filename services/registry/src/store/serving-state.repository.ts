import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ServingStateEntity, type ServingStateRow } from './entities';

/** registry_serving_state: serving's last report (deployment.completed) per model version. */
@Injectable()
export class ServingStateRepository {
  constructor(private readonly dataSource: DataSource) {}

  find(name: string, version: number): Promise<ServingStateRow | null> {
    return this.dataSource.getRepository(ServingStateEntity).findOne({ where: { name, version } });
  }

  async record(row: ServingStateRow): Promise<void> {
    await this.dataSource.getRepository(ServingStateEntity).upsert([row], ['name', 'version']);
  }
}
