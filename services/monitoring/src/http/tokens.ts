export const MONITORING_SERVICE = Symbol('MonitoringService');
export const MONITORING_LOOP = Symbol('MonitoringLoop');
export const MONITORING_METRICS = Symbol('MonitoringMetrics');
