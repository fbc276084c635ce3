import { ConfigError } from '@mlops/config';
import { startTelemetry } from '@mlops/telemetry';

export interface RunningService {
  close(): Promise<void>;
}

/**
 * The body of every service's main.ts: tracing first, then config (a bad environment ends
 * start-up with the variables named and exit code 1), then the service; SIGTERM/SIGINT
 * drain it before exit.
 */
export function runService<C>(
  service: string,
  loadConfig: () => C,
  start: (config: C) => Promise<RunningService>,
): void {
  const telemetry = startTelemetry(service);
  let running: RunningService | undefined;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${service}: ${signal}, draining`);
    await running?.close();
    await telemetry.shutdown();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  (async () => {
    running = await start(loadConfig());
  })().catch((error) => {
    if (error instanceof ConfigError) console.error(error.message);
    else console.error(`${service}: failed to start:`, error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  });
}
