import type { DataSource } from 'typeorm';
import type { RunLogStore } from './run-log-store';
import { SqliteRunLogStore } from './sqlite-run-log-store';
import { TypeormRunLogStore } from './typeorm-run-log-store';

/** The log-batch writer for the service's database: better-sqlite3 directly on SQLite, SQL through TypeORM otherwise. */
export function createRunLogStore(dataSource: DataSource): RunLogStore {
  return dataSource.options.type === 'better-sqlite3' ? new SqliteRunLogStore(dataSource) : new TypeormRunLogStore(dataSource);
}
