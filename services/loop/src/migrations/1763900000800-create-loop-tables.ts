import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Loops (one per correlation id) and their stages. */
export class CreateLoopTables1763900000800 implements MigrationInterface {
  name = 'CreateLoopTables1763900000800';

  async up(runner: QueryRunner): Promise<void> {
    const id = (name: string, nullable = false) => ({ name, type: 'varchar', length: '200', isNullable: nullable });
    const ms = (name: string, nullable = false) => ({ name, type: 'bigint', isNullable: nullable });
    await runner.createTable(
      new Table({
        name: 'loop_loops',
        columns: [
          { ...id('correlation_id'), isPrimary: true },
          id('model'),
          id('open_model', true),
          { name: 'status', type: 'varchar', length: '20' },
          { name: 'outcome', type: 'varchar', length: '30', isNullable: true },
          { name: 'outcome_reason', type: 'text', isNullable: true },
          id('trigger_event_id'),
          { name: 'drift_version', type: 'integer' },
          { name: 'drifted_features', type: 'text' },
          id('feature_view', true),
          { name: 'candidate_version', type: 'integer', isNullable: true },
          ms('awaiting_gate_since', true),
          ms('started_at'),
          ms('ended_at', true),
          ms('last_stage_at'),
        ],
        indices: [
          // NULLs do not collide: only one open loop per model.
          new TableIndex({ name: 'loop_loops_open_model', columnNames: ['open_model'], isUnique: true }),
          new TableIndex({ name: 'loop_loops_model_started', columnNames: ['model', 'started_at'] }),
        ],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'loop_stages',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          id('correlation_id'),
          { name: 'type', type: 'varchar', length: '100' },
          id('event_id', true),
          { name: 'source', type: 'varchar', length: '100' },
          ms('at'),
          { name: 'facts', type: 'text' },
          { name: 'ignored', type: 'boolean' },
          { name: 'note', type: 'text', isNullable: true },
        ],
        indices: [new TableIndex({ name: 'loop_stages_loop', columnNames: ['correlation_id', 'at'] })],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('loop_stages');
    await runner.dropTable('loop_loops');
  }
}
