import { EntitySchema, Table, type MigrationInterface, type QueryRunner } from 'typeorm';

export interface ProcessedEvent {
  consumer: string;
  eventId: string;
  processedAt: Date;
}

const schemas = new Map<string, EntitySchema<ProcessedEvent>>();

/** Per-service table of event ids whose effect has been committed, by consumer. */
export function processedEventsSchema(service: string): EntitySchema<ProcessedEvent> {
  let schema = schemas.get(service);
  if (!schema) {
    schema = new EntitySchema<ProcessedEvent>({
      name: `${service}ProcessedEvent`,
      tableName: `${service}_processed_events`,
      columns: {
        consumer: { type: String, primary: true, length: 200 },
        eventId: { type: String, primary: true, length: 200, name: 'event_id' },
        processedAt: { type: Date, name: 'processed_at' },
      },
    });
    schemas.set(service, schema);
  }
  return schema;
}

export function processedEventsMigration(service: string): new () => MigrationInterface {
  const table = `${service}_processed_events`;
  return class CreateProcessedEvents implements MigrationInterface {
    name = 'CreateProcessedEvents1763900000000';
    async up(runner: QueryRunner): Promise<void> {
      await runner.createTable(
        new Table({
          name: table,
          columns: [
            { name: 'consumer', type: 'varchar', length: '200', isPrimary: true },
            { name: 'event_id', type: 'varchar', length: '200', isPrimary: true },
            { name: 'processed_at', type: runner.connection.options.type === 'postgres' ? 'timestamptz' : 'datetime' },
          ],
        }),
      );
    }
    async down(runner: QueryRunner): Promise<void> {
      await runner.dropTable(table);
    }
  };
}
