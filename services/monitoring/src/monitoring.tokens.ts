/** Injection token of the clock (ms since the epoch; tests pass their own). */
export const CLOCK = Symbol('Clock');
export type Clock = () => number;

/** Injection token of the domain log: quiet (errors only) when the service starts with `logger: false`. */
export const MONITORING_LOG = Symbol('MonitoringLog');
export interface MonitoringLog {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}
