import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** The drift history: one row per evaluated window, read newest first per model (and version). */
export function createDriftWindows(prefix: string): new () => MigrationInterface {
  return class CreateDriftWindows implements MigrationInterface {
    name = 'CreateDriftWindows1765100000700';

    async up(runner: QueryRunner): Promise<void> {
      const double = runner.connection.options.type === 'postgres' ? 'double precision' : 'real';
      await runner.createTable(
        new Table({
          name: `${prefix}_drift_windows`,
          columns: [
            { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
            { name: 'model', type: 'varchar', length: '200' },
            { name: 'version', type: 'integer' },
            { name: 'window_start', type: 'varchar', length: '40' },
            { name: 'window_end', type: 'varchar', length: '40' },
            { name: 'size', type: 'integer' },
            { name: 'evaluated_at', type: 'bigint' },
            { name: 'dataset_share', type: double },
            { name: 'dataset_threshold', type: double },
            { name: 'dataset_drifted', type: 'boolean' },
            { name: 'features', type: 'text' },
          ],
        }),
      );
      await runner.createIndex(`${prefix}_drift_windows`, new TableIndex({ name: `${prefix}_drift_windows_model_version`, columnNames: ['model', 'version', 'id'] }));
    }

    async down(runner: QueryRunner): Promise<void> {
      await runner.dropTable(`${prefix}_drift_windows`);
    }
  };
}
