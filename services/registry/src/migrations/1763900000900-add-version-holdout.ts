import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Each version's holdout rows in the store (training.completed `holdoutUri`, copied), which serving times a latency bound on; null for versions without. */
export class AddVersionHoldout1763900000900 implements MigrationInterface {
  name = 'AddVersionHoldout1763900000900';

  async up(runner: QueryRunner): Promise<void> {
    await runner.addColumn('registry_model_versions', new TableColumn({ name: 'holdout_uri', type: 'text', isNullable: true }));
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropColumn('registry_model_versions', 'holdout_uri');
  }
}
