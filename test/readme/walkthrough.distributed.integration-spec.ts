import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../support/service-process';
import { bash, walkthroughBlocks, walkthroughTests, type BlockRun } from './walkthrough';

const DIR = '/tmp/mlops-walkthrough-distributed';

/**
 * README "Bring your own data" against the distributed platform: its
 * `[VAR=value ...] bash deploy/local/platform.sh start` block, as written, on an infrastructure
 * of its own (a directory and ports apart from the shared test infrastructure's and from
 * test/deploy/local-platform.integration-spec.ts's), then the same steps and checks as the
 * embedded spec with MLOPS_URL at the nginx front door; `stop --purge` of that directory at the end.
 */
describe('README "Bring your own data", run as written against the distributed platform (platform.sh, nginx)', () => {
  let env: NodeJS.ProcessEnv;
  let frontDoor: string;
  let started: BlockRun | undefined;
  const { distributedStart } = walkthroughBlocks();
  const logs = () => {
    const dir = join(DIR, 'platform/logs');
    const tails = existsSync(dir)
      ? readdirSync(dir).map((log) => `--- ${log}\n${readFileSync(join(dir, log), 'utf8').split('\n').slice(-25).join('\n')}`)
      : [];
    return [`--- platform.sh start (exit ${started?.code})`, `${started?.stdout ?? ''}${started?.stderr ?? ''}`.split('\n').slice(-40).join('\n'), ...tails].join('\n');
  };

  beforeAll(async () => {
    const names = ['INGESTION_PORT', 'FEATURE_STORE_HTTP_PORT', 'FEATURE_STORE_GRPC_PORT', 'TRACKING_PORT', 'TRAINER_PORT', 'REGISTRY_PORT', 'SERVING_GRPC_PORT', 'SERVING_HTTP_PORT', 'MONITORING_PORT', 'LOOP_PORT', 'FRONT_DOOR_PORT'];
    const ports = Object.fromEntries(await Promise.all(names.map(async (name) => [name, String(await freePort())])));
    env = { ...process.env, ...ports, MLOPS_LOCAL_DIR: DIR, KAFKA_PORT: '17192', KAFKA_CONTROLLER_PORT: '17193', KAFKA_SASL_PORT: '17194', PG_PORT: '17532', REDIS_PORT: '17479' };
    // As in the local-platform spec: CI starts a broker, a database and eight services on two busy cores.
    Object.assign(env, { KAFKA_START_TIMEOUT: '240', PG_START_TIMEOUT: '180', REDIS_START_TIMEOUT: '60', PLATFORM_READY_TIMEOUT: '240' });
    for (const name of ['KAFKA_BROKERS', 'DATABASE_URL', 'REDIS_URL', 'MLOPS_URL']) delete env[name];
    frontDoor = `http://127.0.0.1:${ports.FRONT_DOOR_PORT}`;
    // A previous run's state would replay its events into the new services.
    if (existsSync(DIR)) await bash('bash deploy/local/platform.sh stop --purge', env, 300_000);
  }, 330_000);
  afterAll(async () => {
    if (existsSync(DIR)) await bash('bash deploy/local/platform.sh stop --purge', env, 300_000);
  }, 330_000);

  it('starts the platform with the README\'s `platform.sh start` line: eight services behind nginx', () => {
    expect(started?.code, logs()).toBe(0);
    expect(`${started?.stdout}${started?.stderr}`).toContain(`front door (nginx) on ${frontDoor}`);
  });

  walkthroughTests({
    log: logs,
    serve: async (walk) => {
      started = await bash(distributedStart, env, 900_000);
      if (started.code !== 0) throw new Error(`\`${distributedStart.trim()}\` failed:\n${logs()}`);
      await walk(frontDoor);
    },
  });
});
