import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * feature_store_views: every version of every feature view (YAML-seeded and PUT at run time).
 * feature_store_source_records: the records of data.validated events the store applied, per
 * source, so a new or changed view can be backfilled from them.
 */
export class CreateFeatureViews1763900000300 implements MigrationInterface {
  name = 'CreateFeatureViews1763900000300';

  async up(runner: QueryRunner): Promise<void> {
    const postgres = runner.connection.options.type === 'postgres';
    await runner.createTable(
      new Table({
        name: 'feature_store_views',
        columns: [
          { name: 'name', type: 'varchar', length: '128', isPrimary: true },
          { name: 'version', type: 'integer', isPrimary: true },
          { name: 'definition', type: 'text' },
          { name: 'created_at', type: postgres ? 'timestamptz' : 'datetime' },
        ],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'feature_store_source_records',
        columns: [
          { name: 'source', type: 'varchar', length: '200', isPrimary: true },
          { name: 'event_id', type: 'varchar', length: '200', isPrimary: true },
          { name: 'record', type: 'text' },
          { name: 'recorded_at', type: postgres ? 'timestamptz' : 'datetime' },
        ],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('feature_store_source_records');
    await runner.dropTable('feature_store_views');
  }
}
