/** The service name: event source, table prefix of processed events, log context. */
export const SERVICE = 'registry';
export const CHAMPION = 'champion';
export const CHALLENGER = 'challenger';
