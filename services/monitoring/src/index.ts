export { startMonitoring, type MonitoringApp, type MonitoringEntryPoints } from './monitoring.app';
export { loadMonitoringConfig, type MonitoringConfig } from './monitoring.config';
export { MonitoringModule } from './monitoring.module';
export { monitoringSettings, type MonitoringSettings } from './monitoring.settings';
export { DriftWatch, type WindowResult } from './drift/drift-watch';
export { PerformanceAggregate, type PerformanceMetric } from './performance/performance-aggregate';
