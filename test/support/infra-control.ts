import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { infraEnv, type InfraEnv } from '../infra/infra-env';

const run = promisify(execFile);
const SCRIPTS = resolve(__dirname, '../../deploy/local');

export type InfraServer = 'kafka' | 'postgres' | 'redis';

/** The port variable each script reads (with its default), and the address the tests use. */
const SCRIPT_PORTS: Record<InfraServer, { variable: string; fallback: string; address: (env: InfraEnv) => string }> = {
  kafka: { variable: 'KAFKA_PORT', fallback: '19092', address: (env) => env.KAFKA_BROKERS },
  postgres: { variable: 'PG_PORT', fallback: '15432', address: (env) => env.DATABASE_URL },
  redis: { variable: 'REDIS_PORT', fallback: '16379', address: (env) => env.REDIS_URL },
};

/** Refuses to restart a server other than the one the tests talk to (the script reads its port from the environment). */
function assertScriptTargetsTestServer(server: InfraServer): void {
  const { variable, fallback, address } = SCRIPT_PORTS[server];
  const port = process.env[variable] ?? fallback;
  const used = address(infraEnv());
  if (!used.includes(`127.0.0.1:${port}`)) {
    throw new Error(`${server}.sh would restart the server on port ${port}, but the tests use ${used}: source the env file deploy/local/up.sh wrote (it sets ${variable} and MLOPS_LOCAL_DIR)`);
  }
}

/**
 * Stops a local server with its provisioning script (Kafka: SIGTERM then its controlled
 * shutdown; Postgres: fast shutdown, which terminates every session), keeps it down for
 * `downMs`, and starts it again on the same data; resolves once it answers.
 */
export async function restartServer(server: InfraServer, downMs: number): Promise<{ downMs: number; restartMs: number }> {
  assertScriptTargetsTestServer(server);
  const t0 = Date.now();
  await run('bash', [resolve(SCRIPTS, `${server}.sh`), 'stop'], { timeout: 120_000 });
  await sleep(downMs);
  const t1 = Date.now();
  await run('bash', [resolve(SCRIPTS, `${server}.sh`), 'start'], { timeout: 180_000 });
  return { downMs: t1 - t0, restartMs: Date.now() - t1 };
}
