import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPTS = resolve(__dirname, '../../deploy/local');

export type InfraServer = 'kafka' | 'postgres' | 'redis';

/**
 * Stops a local server with its provisioning script (Kafka: SIGTERM then its controlled
 * shutdown; Postgres: fast shutdown, which terminates every session), keeps it down for
 * `downMs`, and starts it again on the same data; resolves once it answers.
 */
export async function restartServer(server: InfraServer, downMs: number): Promise<{ downMs: number; restartMs: number }> {
  const t0 = Date.now();
  await run('bash', [resolve(SCRIPTS, `${server}.sh`), 'stop'], { timeout: 120_000 });
  await sleep(downMs);
  const t1 = Date.now();
  await run('bash', [resolve(SCRIPTS, `${server}.sh`), 'start'], { timeout: 180_000 });
  return { downMs: t1 - t0, restartMs: Date.now() - t1 };
}
