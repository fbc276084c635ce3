import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Webhooks (per model or global) and their deliveries: the outbox the delivery poller sends from. */
export class CreateWebhookTables1765100000000 implements MigrationInterface {
  name = 'CreateWebhookTables1765100000000';

  async up(runner: QueryRunner): Promise<void> {
    const ms = (name: string, nullable = false) => ({ name, type: 'bigint', isNullable: nullable });
    await runner.createTable(
      new Table({
        name: 'loop_webhooks',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'url', type: 'text' },
          { name: 'secret', type: 'text' },
          { name: 'events', type: 'text' },
          { name: 'model', type: 'varchar', length: '200', isNullable: true },
          ms('created_at'),
        ],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'loop_webhook_deliveries',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'webhook_id', type: 'varchar', length: '36' },
          { name: 'notification_id', type: 'varchar', length: '300' },
          { name: 'event', type: 'varchar', length: '40' },
          { name: 'model', type: 'varchar', length: '200' },
          { name: 'payload', type: 'text' },
          { name: 'status', type: 'varchar', length: '20' },
          { name: 'attempts', type: 'integer' },
          { name: 'status_code', type: 'integer', isNullable: true },
          { name: 'last_error', type: 'text', isNullable: true },
          ms('next_attempt_at', true),
          ms('delivered_at', true),
          { name: 'claimed_by', type: 'varchar', length: '200', isNullable: true },
          ms('created_at'),
        ],
        indices: [
          // A redelivered event or a second path to the same notification adds no second delivery.
          new TableIndex({ name: 'uq_loop_webhook_deliveries_notification', columnNames: ['webhook_id', 'notification_id'], isUnique: true }),
          new TableIndex({ name: 'ix_loop_webhook_deliveries_due', columnNames: ['status', 'next_attempt_at'] }),
        ],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('loop_webhook_deliveries');
    await runner.dropTable('loop_webhooks');
  }
}
