import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const INFRA_VARIABLES = ['KAFKA_BROKERS', 'DATABASE_URL', 'REDIS_URL'] as const;

export type InfraEnv = Record<(typeof INFRA_VARIABLES)[number], string>;

/** Server addresses from the environment, else from the file deploy/local/up.sh writes. */
export function infraEnv(): InfraEnv {
  const file = join(process.env.MLOPS_LOCAL_DIR ?? '/tmp/mlops-local', 'env');
  const fromFile: Record<string, string> = {};
  if (existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) fromFile[line.slice(0, eq)] = line.slice(eq + 1).trim();
    }
  }
  const env = {} as InfraEnv;
  for (const name of INFRA_VARIABLES) {
    const value = process.env[name] ?? fromFile[name];
    if (!value) throw new Error(`${name} is not set and ${file} does not define it: run deploy/local/up.sh`);
    env[name] = value;
  }
  return env;
}

/** The local broker's SASL_PLAINTEXT listener and its PLAIN credentials (deploy/local/kafka.sh). */
export function localKafkaSasl(): { brokers: string[]; username: string; password: string } {
  const file = join(process.env.MLOPS_LOCAL_DIR ?? '/tmp/mlops-local', 'env');
  const values: Record<string, string> = {};
  for (const line of existsSync(file) ? readFileSync(file, 'utf8').split('\n') : []) {
    const eq = line.indexOf('=');
    if (eq > 0) values[line.slice(0, eq)] = line.slice(eq + 1).trim();
  }
  const read = (name: string) => {
    const value = process.env[name] ?? values[name];
    if (!value) throw new Error(`${name} is not set and ${file} does not define it: run deploy/local/up.sh`);
    return value;
  };
  return { brokers: read('LOCAL_KAFKA_SASL_BROKERS').split(','), username: read('LOCAL_KAFKA_SASL_USERNAME'), password: read('LOCAL_KAFKA_SASL_PASSWORD') };
}
