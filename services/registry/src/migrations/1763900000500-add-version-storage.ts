import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Versions registered from the tracking server: their download location, logged model id and servability. */
export class AddVersionStorage1763900000500 implements MigrationInterface {
  name = 'AddVersionStorage1763900000500';

  async up(runner: QueryRunner): Promise<void> {
    await runner.addColumns('registry_model_versions', [
      new TableColumn({ name: 'storage_location', type: 'text', isNullable: true }),
      new TableColumn({ name: 'model_id', type: 'varchar', length: '200', isNullable: true }),
      new TableColumn({ name: 'servable', type: 'boolean', default: true }),
    ]);
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const column of ['servable', 'model_id', 'storage_location']) await runner.dropColumn('registry_model_versions', column);
  }
}
