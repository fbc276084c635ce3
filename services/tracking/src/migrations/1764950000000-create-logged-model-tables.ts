import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** MLflow 3: logged models with their params and tags, and each run's inputs (datasets, models) and outputs (models). */
export class CreateLoggedModelTables1764950000000 implements MigrationInterface {
  name = 'CreateLoggedModelTables1764950000000';

  async up(runner: QueryRunner): Promise<void> {
    const modelId = { name: 'model_id', type: 'varchar', length: '64' };
    const runUuid = { name: 'run_uuid', type: 'varchar', length: '32' };
    await runner.createTable(
      new Table({
        name: 'tracking_logged_models',
        columns: [
          { ...modelId, isPrimary: true },
          { name: 'experiment_id', type: 'integer' },
          { name: 'name', type: 'varchar', length: '250' },
          { name: 'artifact_location', type: 'text' },
          { name: 'creation_timestamp_ms', type: 'bigint' },
          { name: 'last_updated_timestamp_ms', type: 'bigint' },
          { name: 'status', type: 'varchar', length: '20' },
          { name: 'status_message', type: 'text', isNullable: true },
          { name: 'model_type', type: 'varchar', length: '500', isNullable: true },
          { name: 'source_run_id', type: 'varchar', length: '32', isNullable: true },
          { name: 'lifecycle_stage', type: 'varchar', length: '32' },
        ],
        indices: [
          new TableIndex({ name: 'tracking_logged_models_experiment', columnNames: ['experiment_id', 'creation_timestamp_ms'] }),
          new TableIndex({ name: 'tracking_logged_models_run', columnNames: ['source_run_id'] }),
        ],
      }),
    );
    for (const table of ['tracking_logged_model_params', 'tracking_logged_model_tags']) {
      await runner.createTable(
        new Table({
          name: table,
          columns: [{ ...modelId, isPrimary: true }, { name: 'key', type: 'varchar', length: '250', isPrimary: true }, { name: 'value', type: 'text' }],
        }),
      );
    }
    await runner.createTable(
      new Table({
        name: 'tracking_run_outputs',
        columns: [{ ...runUuid, isPrimary: true }, { ...modelId, isPrimary: true }, { name: 'step', type: 'bigint' }],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'tracking_run_model_inputs',
        columns: [{ ...runUuid, isPrimary: true }, { ...modelId, isPrimary: true }],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'tracking_run_datasets',
        columns: [
          { ...runUuid, isPrimary: true },
          { name: 'name', type: 'varchar', length: '500', isPrimary: true },
          { name: 'digest', type: 'varchar', length: '36', isPrimary: true },
          { name: 'context', type: 'varchar', length: '250', isNullable: true },
          { name: 'source_type', type: 'varchar', length: '36' },
          { name: 'source', type: 'text' },
          { name: 'schema', type: 'text', isNullable: true },
          { name: 'profile', type: 'text', isNullable: true },
          { name: 'tags', type: 'text' },
        ],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const table of [
      'tracking_run_datasets',
      'tracking_run_model_inputs',
      'tracking_run_outputs',
      'tracking_logged_model_tags',
      'tracking_logged_model_params',
      'tracking_logged_models',
    ]) {
      await runner.dropTable(table);
    }
  }
}
