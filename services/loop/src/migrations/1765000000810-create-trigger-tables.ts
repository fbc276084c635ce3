import { Table, TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Retrain triggers per model, claimed schedule slots, new-data counters; which trigger opened each loop. */
export class CreateTriggerTables1765000000810 implements MigrationInterface {
  name = 'CreateTriggerTables1765000000810';

  async up(runner: QueryRunner): Promise<void> {
    const model = { name: 'model', type: 'varchar', length: '200', isPrimary: true };
    const ms = (name: string, nullable = false) => ({ name, type: 'bigint', isNullable: nullable });
    await runner.createTable(
      new Table({
        name: 'loop_triggers',
        columns: [
          model,
          { name: 'drift', type: 'boolean' },
          { name: 'performance', type: 'boolean' },
          { name: 'schedule', type: 'varchar', length: '200', isNullable: true },
          ms('schedule_since', true),
          { name: 'new_data_rows', type: 'integer', isNullable: true },
          ms('updated_at'),
        ],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'loop_schedule_slots',
        // The primary key is the claim: one row per model and slot, whichever instance inserts it first.
        columns: [
          model,
          { ...ms('slot'), isPrimary: true },
          { name: 'decision', type: 'varchar', length: '20' },
          { name: 'note', type: 'text' },
          { name: 'claimed_by', type: 'varchar', length: '200' },
          ms('claimed_at'),
        ],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'loop_new_data',
        columns: [model, { name: 'rows', type: 'integer' }, ms('since')],
      }),
    );
    await runner.addColumn('loop_loops', new TableColumn({ name: 'trigger', type: 'varchar', length: '20', default: "'drift'" }));
    // Loops opened by a schedule or new data have no drifted version.
    if (runner.connection.options.type === 'postgres') await runner.query('ALTER TABLE loop_loops ALTER COLUMN drift_version DROP NOT NULL');
    // SQLite cannot alter a column: TypeORM copies the table (rows and indices) into a new one.
    else await runner.changeColumn('loop_loops', 'drift_version', new TableColumn({ name: 'drift_version', type: 'integer', isNullable: true }));
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.changeColumn('loop_loops', 'drift_version', new TableColumn({ name: 'drift_version', type: 'integer' }));
    await runner.dropColumn('loop_loops', 'trigger');
    await runner.dropTable('loop_new_data');
    await runner.dropTable('loop_schedule_slots');
    await runner.dropTable('loop_triggers');
  }
}
