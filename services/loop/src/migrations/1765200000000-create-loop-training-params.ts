import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/** loop_training_params: the params each model's retrains train with, set at run time (PUT /api/models/:model/training-params). */
export class CreateLoopTrainingParams1765200000000 implements MigrationInterface {
  name = 'CreateLoopTrainingParams1765200000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(
      new Table({
        name: 'loop_training_params',
        columns: [
          { name: 'model', type: 'varchar', length: '200', isPrimary: true },
          { name: 'params', type: 'text' },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('loop_training_params');
  }
}
