import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/** loop_feature_views: the feature view each model retrains from, set at run time (PUT /api/models/:model/feature-view). */
export class CreateLoopFeatureViews1763900000900 implements MigrationInterface {
  name = 'CreateLoopFeatureViews1763900000900';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(
      new Table({
        name: 'loop_feature_views',
        columns: [
          { name: 'model', type: 'varchar', length: '200', isPrimary: true },
          { name: 'feature_view', type: 'varchar', length: '200' },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('loop_feature_views');
  }
}
