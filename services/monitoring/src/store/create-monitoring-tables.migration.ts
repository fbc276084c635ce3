import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/** References, lineage facts, champions, canaries, performance aggregates, cooldowns, outbox. */
export function createMonitoringTables(prefix: string): new () => MigrationInterface {
  return class CreateMonitoringTables implements MigrationInterface {
    name = 'CreateMonitoringTables1763900000700';

    async up(runner: QueryRunner): Promise<void> {
      const model = { name: 'model', type: 'varchar', length: '200', isPrimary: true };
      const version = { name: 'version', type: 'integer', isPrimary: true };
      const text = (name: string, isNullable = false) => ({ name, type: 'text', isNullable });
      const varchar = (name: string, length: number, isNullable = false) => ({ name, type: 'varchar', length: String(length), isNullable });
      const tables: [string, object[]][] = [
        ['references', [model, version, varchar('status', 30), varchar('source', 30, true), text('body', true), varchar('dataset_id', 200, true), text('problem', true), { name: 'updated_at', type: 'bigint' }]],
        ['datasets', [{ ...varchar('dataset_id', 200), isPrimary: true }, text('uri'), text('schema')]],
        ['runs', [{ ...varchar('run_id', 200), isPrimary: true }, varchar('model', 200), varchar('dataset_id', 200, true), text('features'), text('metrics')]],
        ['versions', [model, version, varchar('run_id', 200, true)]],
        ['champions', [model, { name: 'version', type: 'integer' }]],
        [
          'canaries',
          [
            model,
            version,
            { name: 'champion_version', type: 'integer' },
            varchar('status', 20),
            varchar('correlation_id', 200),
            varchar('deployment_event_id', 200),
            { name: 'predictions', type: 'integer' },
            text('comparison'),
            text('verdict', true),
            text('ended_reason', true),
            { name: 'started_at', type: 'bigint' },
          ],
        ],
        ['performance', [model, version, text('state')]],
        ['cooldowns', [{ ...varchar('key', 450), isPrimary: true }, { name: 'last_at', type: 'bigint' }]],
        ['outbox', [{ ...varchar('id', 36), isPrimary: true }, text('event'), { name: 'created_at', type: 'bigint' }]],
      ];
      for (const [name, columns] of tables) {
        await runner.createTable(new Table({ name: `${prefix}_${name}`, columns: columns as Table['columns'] }));
      }
    }

    async down(runner: QueryRunner): Promise<void> {
      for (const name of ['outbox', 'cooldowns', 'performance', 'canaries', 'champions', 'versions', 'runs', 'datasets', 'references']) {
        await runner.dropTable(`${prefix}_${name}`);
      }
    }
  };
}
