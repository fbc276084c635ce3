import { Table, TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Release policies per model (versioned), and every policy check in the gate decisions. */
export class AddReleasePolicies1763900000750 implements MigrationInterface {
  name = 'AddReleasePolicies1763900000750';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(
      new Table({
        name: 'registry_release_policies',
        columns: [
          { name: 'name', type: 'varchar', length: '200', isPrimary: true },
          { name: 'version', type: 'integer', isPrimary: true },
          { name: 'policy', type: 'text' },
          { name: 'created_at', type: 'bigint' },
        ],
      }),
    );
    await runner.addColumns('registry_gate_decisions', [
      new TableColumn({ name: 'checks', type: 'text', isNullable: true }),
      new TableColumn({ name: 'policy_version', type: 'integer', isNullable: true }),
    ]);
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const column of ['policy_version', 'checks']) await runner.dropColumn('registry_gate_decisions', column);
    await runner.dropTable('registry_release_policies');
  }
}
