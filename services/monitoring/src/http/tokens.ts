export const MONITORING_SERVICE = Symbol('MonitoringService');
export const MONITORING_METRICS = Symbol('MonitoringMetrics');
