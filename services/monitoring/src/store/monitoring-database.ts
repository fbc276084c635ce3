import type { DataSource } from 'typeorm';
import { openDataSource } from '@mlops/persistence';
import { createDriftWindows } from './create-drift-windows.migration';
import { createMonitoringTables } from './create-monitoring-tables.migration';
import { monitoringEntities, type MonitoringEntities } from './entities';

/** Injection token of the MonitoringDatabase (opened before the Nest app, closed after it). */
export const MONITORING_DATABASE = Symbol('MonitoringDatabase');

/** The monitor's own tables (`<prefix>_*`) on Postgres or SQLite, migrated. */
export interface MonitoringDatabase {
  dataSource: DataSource;
  prefix: string;
  tables: MonitoringEntities;
}

export async function openMonitoringDatabase(url: string, prefix: string): Promise<MonitoringDatabase> {
  const tables = monitoringEntities(prefix);
  const dataSource = await openDataSource({
    service: prefix,
    url,
    entities: Object.values(tables),
    migrations: [createMonitoringTables(prefix), createDriftWindows(prefix)],
  });
  return { dataSource, prefix, tables };
}
