import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Logger } from '@nestjs/common';
import { Client, type ClientConfig } from 'pg';
import { DataSource, type EntitySchema, type MixedList } from 'typeorm';
import { processedEventsMigration, processedEventsSchema } from './processed-events';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Entity = Function | EntitySchema<any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Migration = Function;

export interface ServiceDataSourceOptions {
  /** Prefix of every table the service owns, e.g. `ingestion`; services share no tables. */
  service: string;
  /** `postgres://user:pass@host:port/db`, `sqlite:<file>` or `sqlite::memory:`. */
  url: string;
  entities: Entity[];
  migrations: Migration[];
}

export type DatabaseKind = 'postgres' | 'sqlite';

/**
 * The pool's connections, each with an 'error' listener from the start. pg-pool removes its
 * own listener when it hands a connection out, and TypeORM adds one only a microtask later: a
 * server shutting down can send a connection's ready and its FATAL in one read, and that FATAL,
 * emitted with no listener, killed the process (seen in CI: the registry, during a Postgres
 * restart). The error still reaches the pool or TypeORM where they listen; this one only says so.
 */
export class ListenedClient extends Client {
  private static readonly log = new Logger('postgres');

  constructor(config?: string | ClientConfig) {
    super(config);
    this.on('error', (error: Error) => ListenedClient.log.warn(`connection lost (${error.message}); the pool opens a new one`));
  }
}

export function databaseKind(url: string): DatabaseKind {
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgres';
  if (url.startsWith('sqlite:')) return 'sqlite';
  throw new Error(`DATABASE_URL "${url}": expected postgres://... or sqlite:<file>`);
}

/**
 * A TypeORM data source for one service: Postgres in distributed mode, SQLite (better-sqlite3)
 * in embedded mode. Schema changes come from versioned migrations, never `synchronize`.
 */
export async function openDataSource(options: ServiceDataSourceOptions): Promise<DataSource> {
  const kind = databaseKind(options.url);
  const processed = processedEventsSchema(options.service);
  const common = {
    entities: [...options.entities, processed] as MixedList<Entity>,
    migrations: [processedEventsMigration(options.service), ...options.migrations] as MixedList<Migration>,
    migrationsTableName: `${options.service}_migrations`,
    // Postgres migrations run below under a lock; SQLite opens serialise on the file.
    migrationsRun: kind === 'sqlite',
    synchronize: false,
    logging: false,
  };
  let dataSource: DataSource;
  if (kind === 'postgres') {
    dataSource = new DataSource({ type: 'postgres', url: options.url, extra: { Client: ListenedClient }, ...common });
  } else {
    const file = options.url.slice('sqlite:'.length);
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    dataSource = new DataSource({
      type: 'better-sqlite3',
      database: file,
      // WAL keeps readers off the writer's back; NORMAL is durable at each checkpoint.
      prepareDatabase: (db: { pragma(sql: string): unknown }) => {
        db.pragma('journal_mode = WAL');
        db.pragma('busy_timeout = 5000');
      },
      ...common,
    });
  }
  await dataSource.initialize();
  if (kind === 'postgres') {
    try {
      await runMigrationsLocked(dataSource, options.service);
    } catch (error) {
      await dataSource.destroy();
      throw error;
    }
  }
  return dataSource;
}

/**
 * Instances of a service starting together against a fresh database would race to create
 * the same tables (a duplicate-key error on pg_type kills all but one), so they take turns
 * under a session advisory lock per service; the later ones then find nothing pending.
 */
async function runMigrationsLocked(dataSource: DataSource, service: string): Promise<void> {
  const runner = dataSource.createQueryRunner();
  const key = `mlops-migrations:${service}`;
  try {
    await runner.query('SELECT pg_advisory_lock(hashtext($1))', [key]);
    try {
      await dataSource.runMigrations({ transaction: 'all' });
    } finally {
      await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [key]);
    }
  } finally {
    await runner.release();
  }
}
