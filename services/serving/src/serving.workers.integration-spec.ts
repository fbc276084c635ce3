import { randomUUID } from 'node:crypto';
import { createEventBus, KafkaAdminKit, observeKafka, type EventBus, type KafkaKitOptions, type Subscription } from '@mlops/bus';
import { createEvent } from '@mlops/contracts';
import { infraEnv } from '../../../test/infra/infra-env';
import { interopPython } from '../../../test/support/python';
import { freePort, ServiceProcess } from '../../../test/support/service-process';
import { waitFor } from '../../../test/support/wait-for';
import { call, inferenceClient, makeTestModels, type TestModels } from '../test/models';

/** The service's shutdown grace (SERVING_SHUTDOWN_GRACE_S); a drain that needs SIGKILL after it fails the test. */
const GRACE_S = 5;

/**
 * SERVING_WORKERS=2 as production runs it (dist main.js, BUS=kafka): a primary and two
 * workers on one port. The primary hands out connections round-robin, so fresh connections
 * alternate between the workers; killing one worker pins the traffic on the other.
 */
describe('serving with 2 worker processes on one port (real Kafka)', () => {
  const infra = infraEnv();
  const kafka: KafkaKitOptions = { clientId: 'serving-workers-it', brokers: infra.KAFKA_BROKERS.split(','), logLevel: 'warn' };
  // A model name of its own: a restarted worker replays the whole deployment topic.
  const model = `churn-${randomUUID().slice(0, 8)}`;
  let models: TestModels;
  let serving: ServiceProcess;
  let address: string;
  let consumer: Subscription;
  let producer: EventBus;
  const completed: { model: string; version: number; status: string }[] = [];

  const output = () => serving.output.join('');
  /** pid of each worker from its last "listening" line. */
  const workerPids = () => {
    const pids = new Map<number, number>();
    for (const m of output().matchAll(/listening on .*worker (\d+) pid (\d+)\)/g)) pids.set(Number(m[1]), Number(m[2]));
    return pids;
  };
  const deployedLines = (version: number) => output().split(`deployed model '${model}' version ${version}`).length - 1;
  /** ModelInfer on a new HTTP/2 connection each time; the model version of each answer. */
  async function versionsOnFreshConnections(count: number): Promise<string[]> {
    const versions: string[] = [];
    for (let i = 0; i < count; i++) {
      const client = inferenceClient(address, { 'grpc.use_local_subchannel_pool': 1 });
      try {
        const response = await call<{ model_version: string }>(client, 'ModelInfer', {
          model_name: model,
          inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 30], contents: { fp32_contents: models.expected.logreg_v1.rows[0] } }],
        });
        versions.push(response.model_version);
      } finally {
        client.close();
      }
    }
    return versions;
  }

  beforeAll(async () => {
    models = makeTestModels(interopPython());
    const admin = new KafkaAdminKit(kafka);
    await admin.createTopics(['prediction.logged', 'deployment.requested', 'deployment.completed', 'model.promoted', 'model.rolled_back']).finally(() => admin.close());
    consumer = await observeKafka(kafka, { group: `serving-workers-observer-${randomUUID()}`, topics: ['deployment.completed'] }, (message) => {
      const event = JSON.parse(message.value.toString());
      if (event.data.model === model) completed.push(event.data);
    });
    producer = createEventBus({ BUS: 'kafka', KAFKA_BROKERS: kafka.brokers, KAFKA_SSL: false }, { service: 'serving-workers-it' });

    const port = await freePort();
    address = `127.0.0.1:${port}`;
    const group = `serving-workers-it-${randomUUID()}`;
    serving = new ServiceProcess('serving', {
      BUS: 'kafka',
      KAFKA_BROKERS: infra.KAFKA_BROKERS,
      SERVING_WORKERS: '2',
      SERVING_GRPC_PORT: String(port),
      SERVING_MODELS: `${model}=${models.logregV1}`,
      SERVING_GROUP: group,
      SERVING_LOG_SAMPLE_RATE: '0',
      SERVING_SHUTDOWN_GRACE_S: String(GRACE_S),
    });
    serving.start();
    await waitFor(() => workerPids().size === 2, 'both workers listening', 60_000);
    // One consumer group per worker; a deployment sent before both have their partitions would be missed.
    const groups = new KafkaAdminKit(kafka);
    await waitFor(
      async () => {
        const described = await groups.describeGroups([`${group}-worker-0`, `${group}-worker-1`]);
        return described.every((g) => g.state === 'Stable' && g.members === 1);
      },
      'both worker consumer groups stable',
      60_000,
    ).finally(() => groups.close());
    // The group is stable before the member has fetched its start offsets.
    await new Promise((r) => setTimeout(r, 1_000));
  });
  afterAll(async () => {
    await serving?.stop();
    await consumer?.stop();
    await producer?.close();
  });

  it('starts a primary and two workers on the same port', async () => {
    expect(output()).toContain(`2 workers on 127.0.0.1:${address.split(':')[1]}`);
    expect(new Set(workerPids().values()).size).toBe(2);
    expect(await versionsOnFreshConnections(4)).toEqual(['1', '1', '1', '1']);
  });

  it('every worker hot-swaps on one deployment.requested; worker 0 alone reports it', async () => {
    const event = createEvent('deployment.requested', {
      source: 'registry',
      subject: model,
      data: { model, version: 5, artifactUri: models.logregV2, strategy: 'full' },
    });
    await producer.publish(event);
    await waitFor(() => deployedLines(5) === 2, 'both workers to deploy version 5');
    await waitFor(() => completed.some((c) => c.version === 5), 'deployment.completed');
    expect(completed).toEqual([{ model, version: 5, status: 'serving', trafficShare: 1, strategy: 'full' }]);
    expect(await versionsOnFreshConnections(6)).toEqual(['5', '5', '5', '5', '5', '5']);
  });

  it('a killed worker is restarted and replays the deployment; each worker answers alone', async () => {
    const before = workerPids();
    process.kill(before.get(1)!, 'SIGKILL');
    // Only worker 0 is left to answer meanwhile.
    await waitFor(() => output().includes(`worker 1 (pid ${before.get(1)}) exited`), 'the primary to see worker 1 exit');
    expect(await versionsOnFreshConnections(3)).toEqual(['5', '5', '5']);

    await waitFor(() => workerPids().get(1) !== before.get(1), 'worker 1 restarted', 60_000);
    await waitFor(() => deployedLines(5) === 3, 'the restarted worker 1 to replay version 5', 60_000);
    process.kill(before.get(0)!, 'SIGKILL');
    await waitFor(() => output().includes(`worker 0 (pid ${before.get(0)}) exited`), 'the primary to see worker 0 exit');
    // Now the restarted worker 1 answers, with the route it replayed.
    expect(await versionsOnFreshConnections(3)).toEqual(['5', '5', '5']);
    await waitFor(() => workerPids().get(0) !== before.get(0), 'worker 0 restarted', 60_000);
  });

  it('SIGTERM to the primary drains every worker and exits 0 within the grace period (no SIGKILL needed)', async () => {
    // The workers drain within the grace; the primary then reaps them and flushes: 5 s more.
    const exit = await serving.stop((GRACE_S + 5) * 1000);
    expect(exit).toMatchObject({ code: 0, signal: null, killedAfterGrace: false });
    expect(output()).toContain('SIGTERM, draining 2 workers');
    expect(output().split('serving: SIGTERM, draining\n').length - 1).toBe(2);
  });
});
