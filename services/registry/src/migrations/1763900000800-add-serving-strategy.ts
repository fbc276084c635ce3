import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/** The release strategy of each version's deployment (deployment.completed `strategy`); null for rows recorded before it. */
export class AddServingStrategy1763900000800 implements MigrationInterface {
  name = 'AddServingStrategy1763900000800';

  async up(runner: QueryRunner): Promise<void> {
    await runner.addColumn('registry_serving_state', new TableColumn({ name: 'strategy', type: 'varchar', length: '20', isNullable: true }));
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropColumn('registry_serving_state', 'strategy');
  }
}
