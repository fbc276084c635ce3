import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/** What serving last reported per version (deployment.completed), so promotion knows what is loaded. */
export class AddServingState1763900000600 implements MigrationInterface {
  name = 'AddServingState1763900000600';

  async up(runner: QueryRunner): Promise<void> {
    const double = runner.connection.options.type === 'postgres' ? 'double precision' : 'real';
    await runner.createTable(
      new Table({
        name: 'registry_serving_state',
        columns: [
          { name: 'name', type: 'varchar', length: '200', isPrimary: true },
          { name: 'version', type: 'integer', isPrimary: true },
          { name: 'status', type: 'varchar', length: '20' },
          { name: 'traffic_share', type: double },
          { name: 'error', type: 'text', isNullable: true },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('registry_serving_state');
  }
}
