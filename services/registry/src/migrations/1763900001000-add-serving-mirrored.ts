import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Whether a loaded version is the model's running shadow (gets a copy of every request, answers none); null for rows recorded before it. */
export class AddServingMirrored1763900001000 implements MigrationInterface {
  name = 'AddServingMirrored1763900001000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.addColumn('registry_serving_state', new TableColumn({ name: 'mirrored', type: 'boolean', isNullable: true }));
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropColumn('registry_serving_state', 'mirrored');
  }
}
