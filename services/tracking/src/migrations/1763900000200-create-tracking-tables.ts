import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Experiments, runs, params, tags, metric history and latest metrics; plus MLflow's "Default" experiment 0. */
export class CreateTrackingTables1763900000200 implements MigrationInterface {
  name = 'CreateTrackingTables1763900000200';

  async up(runner: QueryRunner): Promise<void> {
    const postgres = runner.connection.options.type === 'postgres';
    const double = postgres ? 'double precision' : 'real';
    const runUuid = { name: 'run_uuid', type: 'varchar', length: '32' };
    const key = { name: 'key', type: 'varchar', length: '250' };
    await runner.createTable(
      new Table({
        name: 'tracking_experiments',
        columns: [
          { name: 'experiment_id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'name', type: 'varchar', length: '256', isUnique: true },
          { name: 'artifact_location', type: 'text' },
          { name: 'lifecycle_stage', type: 'varchar', length: '32' },
          { name: 'creation_time', type: 'bigint' },
          { name: 'last_update_time', type: 'bigint' },
        ],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'tracking_experiment_tags',
        columns: [
          { name: 'experiment_id', type: 'integer', isPrimary: true },
          { ...key, isPrimary: true },
          { name: 'value', type: 'text' },
        ],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'tracking_runs',
        columns: [
          { ...runUuid, isPrimary: true },
          { name: 'experiment_id', type: 'integer' },
          { name: 'name', type: 'varchar', length: '250' },
          { name: 'user_id', type: 'varchar', length: '256' },
          { name: 'status', type: 'varchar', length: '20' },
          { name: 'start_time', type: 'bigint' },
          { name: 'end_time', type: 'bigint', isNullable: true },
          { name: 'lifecycle_stage', type: 'varchar', length: '32' },
          { name: 'artifact_uri', type: 'text' },
        ],
        indices: [new TableIndex({ name: 'tracking_runs_experiment', columnNames: ['experiment_id', 'start_time'] })],
      }),
    );
    for (const table of ['tracking_params', 'tracking_tags']) {
      await runner.createTable(
        new Table({
          name: table,
          columns: [{ ...runUuid, isPrimary: true }, { ...key, isPrimary: true }, { name: 'value', type: 'text' }],
        }),
      );
    }
    const metricColumns = [
      { name: 'value', type: double },
      { name: 'is_nan', type: 'boolean' },
      { name: 'timestamp', type: 'bigint' },
      { name: 'step', type: 'bigint' },
    ];
    await runner.createTable(
      new Table({
        name: 'tracking_metrics',
        columns: [
          { name: 'id', type: postgres ? 'bigint' : 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          runUuid,
          key,
          ...metricColumns,
        ],
        indices: [new TableIndex({ name: 'tracking_metrics_history', columnNames: ['run_uuid', 'key', 'step'] })],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'tracking_latest_metrics',
        columns: [{ ...runUuid, isPrimary: true }, { ...key, isPrimary: true }, ...metricColumns],
      }),
    );
    const now = Date.now();
    await runner.query(
      `INSERT INTO tracking_experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time)
       VALUES (0, 'Default', 'mlflow-artifacts:/0', 'active', ${now}, ${now})`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const table of [
      'tracking_latest_metrics',
      'tracking_metrics',
      'tracking_tags',
      'tracking_params',
      'tracking_runs',
      'tracking_experiment_tags',
      'tracking_experiments',
    ]) {
      await runner.dropTable(table);
    }
  }
}
