import { execFileSync, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { infraEnv, INFRA_VARIABLES } from './infra-env';

let startedHere = false;

/**
 * Integration tests run against real Kafka, Postgres and Redis. When the environment does
 * not point at running servers, the provisioning scripts start throwaway ones on loopback,
 * unless MLOPS_REQUIRE_INFRA is set (as .ci/run sets it): then the run fails at once, naming
 * what is missing, as the servers were to be provided.
 */
export function setup(): void {
  const missing = INFRA_VARIABLES.filter((v) => !process.env[v]);
  if (missing.length === 0) return;
  if (process.env.MLOPS_REQUIRE_INFRA) {
    throw new Error(`MLOPS_REQUIRE_INFRA is set and ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not: export the env file deploy/local/up.sh writes (set -a; . /tmp/mlops-local/env; set +a)`);
  }
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
