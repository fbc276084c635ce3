import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Registered models, versions (with lineage and signature), tags, aliases, gate decisions, champion history. */
export class CreateRegistryTables1763900000400 implements MigrationInterface {
  name = 'CreateRegistryTables1763900000400';

  async up(runner: QueryRunner): Promise<void> {
    const postgres = runner.connection.options.type === 'postgres';
    const double = postgres ? 'double precision' : 'real';
    const name = { name: 'name', type: 'varchar', length: '200' };
    const version = { name: 'version', type: 'integer' };
    const key = { name: 'key', type: 'varchar', length: '250' };
    const optional = (column: string) => ({ name: column, type: 'varchar', length: '200', isNullable: true });
    await runner.createTable(
      new Table({
        name: 'registry_models',
        columns: [
          { ...name, isPrimary: true },
          { name: 'description', type: 'text' },
          { name: 'creation_time', type: 'bigint' },
          { name: 'last_updated_time', type: 'bigint' },
        ],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'registry_model_tags',
        columns: [{ ...name, isPrimary: true }, { ...key, isPrimary: true }, { name: 'value', type: 'text' }],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'registry_model_versions',
        columns: [
          { ...name, isPrimary: true },
          { ...version, isPrimary: true },
          { name: 'status', type: 'varchar', length: '20' },
          { name: 'description', type: 'text' },
          { name: 'source', type: 'text' },
          optional('run_id'),
          optional('dataset_id'),
          optional('dataset_hash'),
          optional('code_version'),
          { name: 'artifact_hash', type: 'varchar', length: '64' },
          { name: 'artifact_uri', type: 'text' },
          { name: 'signature', type: 'text' },
          { name: 'metrics', type: 'text' },
          optional('source_event_id'),
          optional('correlation_id'),
          { name: 'creation_time', type: 'bigint' },
          { name: 'last_updated_time', type: 'bigint' },
        ],
        indices: [
          new TableIndex({ name: 'registry_versions_dataset', columnNames: ['dataset_hash'] }),
          new TableIndex({ name: 'registry_versions_run', columnNames: ['run_id'] }),
          new TableIndex({ name: 'registry_versions_event', columnNames: ['source_event_id'] }),
        ],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'registry_version_tags',
        columns: [
          { ...name, isPrimary: true },
          { ...version, isPrimary: true },
          { ...key, isPrimary: true },
          { name: 'value', type: 'text' },
        ],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'registry_aliases',
        columns: [{ ...name, isPrimary: true }, { name: 'alias', type: 'varchar', length: '100', isPrimary: true }, version],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'registry_gate_decisions',
        columns: [
          { ...name, isPrimary: true },
          { ...version, isPrimary: true },
          { name: 'passed', type: 'boolean' },
          { name: 'metric', type: 'varchar', length: '250' },
          { name: 'basis', type: 'varchar', length: '20' },
          { name: 'candidate_score', type: double, isNullable: true },
          { name: 'champion_version', type: 'integer', isNullable: true },
          { name: 'champion_score', type: double, isNullable: true },
          { name: 'tolerance', type: double },
          { name: 'higher_is_better', type: 'boolean' },
          { name: 'reason', type: 'text' },
          { name: 'decided_at', type: 'bigint' },
        ],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'registry_champion_history',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          name,
          version,
          { name: 'previous_version', type: 'integer', isNullable: true },
          { name: 'reason', type: 'text' },
          { name: 'rolled_back', type: 'boolean' },
          { name: 'changed_at', type: 'bigint' },
        ],
        indices: [new TableIndex({ name: 'registry_champion_history_model', columnNames: ['name', 'id'] })],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const table of [
      'registry_champion_history',
      'registry_gate_decisions',
      'registry_aliases',
      'registry_version_tags',
      'registry_model_versions',
      'registry_model_tags',
      'registry_models',
    ]) {
      await runner.dropTable(table);
    }
  }
}
