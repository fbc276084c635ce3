export { startMonitoring, type MonitoringApp } from './monitoring.app';
export { loadMonitoringConfig, type MonitoringConfig } from './monitoring.config';
export { MonitoringService, type WindowResult } from './monitoring.service';
export { MonitoringLoop } from './loop/monitoring-loop';
export { PerformanceAggregate, type PerformanceMetric } from './performance/performance-aggregate';
