import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

export class CreateDataContracts1763900000100 implements MigrationInterface {
  name = 'CreateDataContracts1763900000100';

  async up(runner: QueryRunner): Promise<void> {
    const postgres = runner.connection.options.type === 'postgres';
    await runner.createTable(
      new Table({
        name: 'ingestion_data_contracts',
        columns: [
          { name: 'source', type: 'varchar', length: '100', isPrimary: true },
          { name: 'version', type: 'integer', isPrimary: true },
          { name: 'definition', type: 'text' },
          { name: 'created_at', type: postgres ? 'timestamptz' : 'datetime' },
        ],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('ingestion_data_contracts');
  }
}
