import type { LoggerService } from '@nestjs/common';

/** Where serving's log lines go (each prefixed `serving: ` on the console). */
export interface ServingLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Injection token of the ServingLogger. */
export const SERVING_LOGGER = Symbol('ServingLogger');

export const consoleLogger: ServingLogger = {
  log: (m) => console.log(`serving: ${m}`),
  warn: (m) => console.warn(`serving: ${m}`),
  error: (m) => console.error(`serving: ${m}`),
};

export const silentLogger: ServingLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Nest's own logger for serving: its warnings and errors go to the service's logger; its
 * start-up lines (modules initialised, handlers mapped) are dropped, as serving never printed
 * them, and so is its ExceptionHandler's report of a provider that failed to build: with
 * `abortOnError: false` that error fails startServing, whose caller reports it (runService).
 */
export function nestLogger(log: ServingLogger): LoggerService {
  const line = (message: unknown, params: unknown[]) => [message, ...params].filter((p) => p !== undefined).map(String).join(' ');
  return {
    log: () => undefined,
    warn: (message: unknown, ...params: unknown[]) => log.warn(line(message, params)),
    error: (message: unknown, ...params: unknown[]) => {
      if (params.at(-1) !== 'ExceptionHandler') log.error(line(message, params));
    },
  };
}
