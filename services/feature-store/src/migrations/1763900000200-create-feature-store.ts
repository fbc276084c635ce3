import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

export class CreateFeatureStore1763900000200 implements MigrationInterface {
  name = 'CreateFeatureStore1763900000200';

  async up(runner: QueryRunner): Promise<void> {
    const postgres = runner.connection.options.type === 'postgres';
    const timestamp = postgres ? 'timestamptz' : 'datetime';
    await runner.createTable(
      new Table({
        name: 'feature_store_rows',
        columns: [
          { name: 'view', type: 'varchar', length: '128', isPrimary: true },
          { name: 'event_id', type: 'varchar', length: '200', isPrimary: true },
          { name: 'entity_key', type: 'varchar', length: '256' },
          { name: 'event_time_ms', type: 'bigint' },
          { name: 'values', type: 'text' },
          { name: 'inputs', type: 'text' },
          { name: 'recorded_at', type: timestamp },
        ],
      }),
    );
    await runner.createIndex(
      'feature_store_rows',
      new TableIndex({ name: 'feature_store_rows_entity_time', columnNames: ['view', 'entity_key', 'event_time_ms'] }),
    );
    await runner.createTable(
      new Table({
        name: 'feature_store_datasets',
        columns: [
          { name: 'view', type: 'varchar', length: '128', isPrimary: true },
          { name: 'version', type: 'integer', isPrimary: true },
          { name: 'hash', type: 'varchar', length: '64' },
          { name: 'uri', type: 'text' },
          { name: 'row_count', type: 'integer' },
          { name: 'manifest', type: 'text' },
          { name: 'created_at', type: timestamp },
        ],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('feature_store_datasets');
    await runner.dropTable('feature_store_rows');
  }
}
