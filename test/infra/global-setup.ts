import { execFileSync, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { infraEnv, INFRA_VARIABLES } from './infra-env';

let startedHere = false;

/**
 * Integration tests run against real Kafka, Postgres and Redis. When the environment does
 * not point at running servers, the provisioning scripts start throwaway ones on loopback.
 */
export function setup(): void {
  if (INFRA_VARIABLES.every((v) => process.env[v])) return;
  const root = resolve(__dirname, '../..');
  // Servers that were already up (a developer's) stay up after the run.
  startedHere = spawnSync('bash', [resolve(root, 'deploy/local/kafka.sh'), 'status']).status !== 0;
  execFileSync('bash', [resolve(root, 'deploy/local/up.sh')], { stdio: 'inherit', cwd: root });
  Object.assign(process.env, infraEnv());
}

export function teardown(): void {
  if (!startedHere || process.env.MLOPS_KEEP_INFRA) return;
  execFileSync('bash', [resolve(__dirname, '../../deploy/local/down.sh')], { stdio: 'inherit' });
}
