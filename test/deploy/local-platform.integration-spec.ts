import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FRONT_DOOR_SERVICES } from '../../platform/embedded/src/front-door/routes';
import { readmeBlocks } from '../support/readme';
import { freePort } from '../support/service-process';

const ROOT = resolve(__dirname, '../..');
const DIR = '/tmp/mlops-local-platform-spec';

/**
 * The README's distributed start, as a user runs it on a fresh machine: deploy/local/platform.sh
 * brings up its own Kafka, Postgres and Redis (a separate directory and ports, so the shared test
 * infrastructure is not touched), the topics, the eight services in order and nginx; then stop
 * --purge leaves nothing behind.
 */
describe('deploy/local/platform.sh: the whole distributed platform from nothing', () => {
  let env: NodeJS.ProcessEnv;
  let frontDoor: string;
  const commands = readmeBlocks('Running distributed')
    .flatMap((block) => block.split('\n'))
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line.startsWith('bash deploy/local/platform.sh'));
  const run = (command: string) => spawnSync('bash', ['-c', command], { cwd: ROOT, env, encoding: 'utf8', timeout: 900_000 });
  /** Why a command failed, short enough to read in a CI log: its exit, then its last lines. */
  const failure = (result: ReturnType<typeof run>) =>
    `exit ${result.status} signal ${result.signal} ${result.error ?? ''}\n${`${result.stdout}${result.stderr}`.split('\n').slice(-60).join('\n')}`;
  const command = (verb: string) => {
    const found = commands.find((line) => line.split(' ')[2] === verb);
    if (!found) throw new Error(`the README's "Running distributed" section shows no \`bash deploy/local/platform.sh ${verb}\` (it shows: ${commands.join('; ')})`);
    return found;
  };

  beforeAll(async () => {
    rmSync(DIR, { recursive: true, force: true });
    const names = ['INGESTION_PORT', 'FEATURE_STORE_HTTP_PORT', 'FEATURE_STORE_GRPC_PORT', 'TRACKING_PORT', 'TRAINER_PORT', 'REGISTRY_PORT', 'SERVING_GRPC_PORT', 'SERVING_HTTP_PORT', 'MONITORING_PORT', 'LOOP_PORT', 'FRONT_DOOR_PORT'];
    const ports = Object.fromEntries(await Promise.all(names.map(async (name) => [name, String(await freePort())])));
    // Infrastructure ports below the ephemeral range, apart from the shared test infrastructure's.
    env = { ...process.env, ...ports, MLOPS_LOCAL_DIR: DIR, KAFKA_PORT: '17092', KAFKA_CONTROLLER_PORT: '17093', KAFKA_SASL_PORT: '17094', PG_PORT: '17432', REDIS_PORT: '17379' };
    // CI runs this beside the unit and python tiers on two cores: a second broker, database and
    // eight services start slower there than the scripts' defaults allow for.
    Object.assign(env, { KAFKA_START_TIMEOUT: '240', PG_START_TIMEOUT: '180', REDIS_START_TIMEOUT: '60', PLATFORM_READY_TIMEOUT: '240' });
    for (const name of ['KAFKA_BROKERS', 'DATABASE_URL', 'REDIS_URL']) delete env[name];
    frontDoor = `http://127.0.0.1:${ports.FRONT_DOOR_PORT}`;
  });
  afterAll(() => {
    if (existsSync(DIR)) run(command('stop') + ' --purge');
  }, 300_000);

  it('start brings every service up behind the front door, each with a log of its own and no warning in it', () => {
    const started = run(command('start'));
    expect(started.status, failure(started)).toBe(0);
    const said = `${started.stdout}${started.stderr}`;
    expect(said).toMatch(/topics: \d+ event and dead-letter topics ready/);
    const order = ['tracking', 'registry', 'ingestion', 'feature-store', 'trainer', 'serving', 'monitoring', 'loop'].map((s) => said.indexOf(`${s} ready on :`));
    expect(order.every((at) => at >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(said).toContain(`front door (nginx) on ${frontDoor}`);

    const logs = readdirSync(join(DIR, 'platform/logs')).sort();
    expect(logs).toEqual(['feature-store', 'ingestion', 'loop', 'monitoring', 'registry', 'serving', 'tracking', 'trainer'].map((s) => `${s}.log`));
    for (const log of logs) expect(readFileSync(join(DIR, 'platform/logs', log), 'utf8'), log).not.toMatch(/Warning|\bWARN\b|\bERROR\b/);
  }, 900_000);

  it('answers through the front door: the MLflow API at its root, every service under its own path', async () => {
    const experiments = await fetch(`${frontDoor}/api/2.0/mlflow/experiments/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"max_results":5}' });
    expect(experiments.status).toBe(200);
    expect(((await experiments.json()) as { experiments: unknown[] }).experiments[0]).toMatchObject({ experiment_id: '0', name: 'Default' });
    for (const service of FRONT_DOOR_SERVICES) expect((await fetch(`${frontDoor}/${service}/health/ready`)).status, service).toBe(200);
    const status = run(command('status'));
    expect(status.status, status.stdout).toBe(0);
    expect(status.stdout.match(/: ready on :/g)).toHaveLength(8);
  });

  it('start again leaves what runs running; stop --purge stops everything and deletes its state', async () => {
    const again = run(command('start'));
    expect(again.status, failure(again)).toBe(0);
    expect(again.stderr.match(/\[platform\] [a-z-]+ already running/g)).toHaveLength(8);
    const stopped = run(command('stop') + ' --purge');
    expect(stopped.status, failure(stopped)).toBe(0);
    expect(stopped.stderr).toContain('purged');
    expect(existsSync(DIR) ? readdirSync(DIR) : []).toEqual([]);
    await expect(fetch(`${frontDoor}/registry/health/ready`)).rejects.toThrow();
  }, 300_000);
});
