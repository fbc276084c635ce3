import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { createEvent, type AnyEvent, type EventType } from '@mlops/contracts';
import { FEATURES, SyntheticStream } from '../../platform/embedded/src/embedded';
import { Traffic } from '../../platform/embedded/src/traffic';
import { infraEnv } from '../infra/infra-env';
import { KafkaEventLog } from '../support/kafka-event-log';
import { startGroupsAtEnd } from '../support/kafka-groups';
import { freePort, ServiceProcess } from '../support/service-process';
import { waitFor } from '../support/wait-for';

/** The stages a promoted loop goes through, in causal order (training.started is not required). */
const LOOP_STAGES = [
  'drift.detected',
  'retrain.requested',
  'dataset.materialized',
  'training.completed',
  'model.registered',
  'deployment.requested',
  'deployment.completed',
  'canary.evaluated',
  'model.promoted',
] as const satisfies readonly EventType[];

const OBSERVED: readonly EventType[] = [...LOOP_STAGES, 'training.started', 'training.failed', 'model.rolled_back'];

/** Settings of the loop as the embedded platform runs it (platform/embedded/src/embedded.ts). */
// Produced at once over 3 partitions: about 1,000 a partition. Ingestion sends the outputs of
// one fetched batch in one produce request, which the broker refuses above 1 MB (about 1,500
// data.validated events), so a larger backlog on one partition stalls it (see the report).
const RECORDS = 3_000;
const WINDOW = 300;
const PROMOTE_AFTER = 100;

interface LoopStage {
  type: string;
  ignored: boolean;
  sincePreviousMs: number;
}

interface LoopRecord {
  correlationId: string;
  model: string;
  status: 'open' | 'closed';
  outcome: string | null;
  outcomeReason: string | null;
  candidateVersion: number | null;
  durationMs: number | null;
  stages: LoopStage[];
}

/**
 * The closed loop as docker-compose runs it, on this machine: real Kafka, Postgres and Redis
 * (deploy/local), every service its own Node process from its production entry point with
 * compose's environment. The test only drives from outside, as a user would: a data contract
 * over HTTP, records and one retrain.requested produced to Kafka, prediction traffic over
 * KServe v2 gRPC with late labels produced to Kafka; then it watches the services close the
 * loop on their own after the stream shifts.
 */
describe('closed loop across processes: drift -> retrain -> canary -> promotion (real Kafka, Postgres, Redis)', () => {
  const infra = infraEnv();
  const run = `loop${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const model = `model_${run}`;
  const view = `view_${run}`;
  const source = `src_${run}`;
  const group = (service: string) => `${run}-${service}`;
  const kafka = new Kafka({ clientId: run, brokers: infra.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 200 } });
  const services: ServiceProcess[] = [];
  const report: string[] = [];
  const started = Date.now();
  let stepStart = started;
  const mark = (step: string) => {
    report.push(`${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s  ${step} (${((Date.now() - stepStart) / 1000).toFixed(1)}s)`);
    stepStart = Date.now();
  };
  let passed = false;
  let dir: string;
  let admin: Admin | undefined;
  let producer: Producer | undefined;
  let log: KafkaEventLog | undefined;
  let traffic: Traffic | undefined;
  const url: Record<'ingestion' | 'featureStore' | 'registry' | 'monitoring' | 'loop', string> = { ingestion: '', featureStore: '', registry: '', monitoring: '', loop: '' };
  let grpcAddress = '';

  const ofThisRun = (e: AnyEvent): boolean => {
    const data = e.data as { model?: string; featureView?: string };
    return e.subject === model || data.model === model || data.featureView === view;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'loop-e2e-'));
    const viewsFile = join(dir, 'feature-views.yaml');
    writeFileSync(
      viewsFile,
      [
        'featureViews:',
        `  - name: ${view}`,
        `    source: ${source}`,
        '    entityKey: entity',
        '    timestampField: ts',
        '    features:',
        ...FEATURES.map((f) => `      - { name: ${f}, type: number }`),
        '      - { name: label, type: integer }',
        '',
      ].join('\n'),
    );

    admin = kafka.admin();
    await admin.connect();
    // Every consumer group of this run starts at the current end of the shared topics. Ingestion
    // consumes raw.<source> of every source with a contract in the shared database, so all of them.
    const rawTopics = (await admin.listTopics()).filter((t) => t.startsWith('raw.') && !t.endsWith('.dlq'));
    await startGroupsAtEnd(kafka, admin, {
      [group('ingestion')]: [...rawTopics, `raw.${source}`],
      [group('feature-store')]: ['data.validated'],
      [group('feature-store.retrain')]: ['retrain.requested'],
      [group('trainer')]: ['dataset.materialized'],
      [group('registry')]: ['training.completed'],
      [group('registry.canary')]: ['canary.evaluated', 'deployment.completed'],
      [group('serving')]: ['deployment.requested', 'model.promoted', 'model.rolled_back'],
      [group('monitoring')]: ['prediction.logged'],
      [group('monitoring.labels')]: ['label.observed'],
      [group('monitoring.lifecycle')]: ['dataset.materialized', 'training.completed', 'model.registered', 'deployment.completed', 'model.promoted', 'model.rolled_back'],
      [group('loop')]: OBSERVED,
      [group('observer')]: OBSERVED,
    });
    mark('consumer groups of this run start at the end of the shared topics');

    const [ingestionPort, fsHttp, fsGrpc, trackingPort, trainerPort, registryPort, grpcPort, servingMetrics, monitoringPort, loopPort] = await Promise.all(
      Array.from({ length: 10 }, () => freePort()),
    );
    const local = (port: number) => `http://127.0.0.1:${port}`;
    url.ingestion = local(ingestionPort);
    url.featureStore = local(fsHttp);
    url.registry = local(registryPort);
    url.monitoring = local(monitoringPort);
    url.loop = local(loopPort);
    grpcAddress = `127.0.0.1:${grpcPort}`;

    // docker-compose.yml's environment, on loopback; the artifacts dir stands for its shared volume.
    const bus = { BUS: 'kafka', KAFKA_BROKERS: infra.KAFKA_BROKERS };
    const database = { DATABASE_URL: infra.DATABASE_URL };
    const artifacts = join(dir, 'artifacts');
    const start = (service: string, env: Record<string, string>, ready: string) => {
      const child = new ServiceProcess(service, env);
      services.push(child);
      child.start();
      return child.waitUntilReady(ready, 90_000);
    };
    await Promise.all([
      start(
        'ingestion',
        { ...bus, ...database, INGESTION_HOST: '127.0.0.1', INGESTION_PORT: String(ingestionPort), INGESTION_GROUP: group('ingestion'), INSTANCE_ID: group('ingestion-0') },
        `${url.ingestion}/health/ready`,
      ),
      start(
        'feature-store',
        {
          ...bus,
          ...database,
          FEATURE_STORE_HTTP_PORT: String(fsHttp),
          FEATURE_STORE_GRPC_PORT: String(fsGrpc),
          FEATURE_STORE_ARTIFACT_ROOT: join(artifacts, 'datasets'),
          FEATURE_VIEWS_FILE: viewsFile,
          ONLINE_STORE: 'redis',
          REDIS_URL: infra.REDIS_URL,
          REDIS_KEY_PREFIX: run,
          FEATURE_STORE_GROUP: group('feature-store'),
          INSTANCE_ID: group('feature-store-0'),
        },
        `${url.featureStore}/health/ready`,
      ),
      start(
        'tracking',
        { ...bus, ...database, TRACKING_PORT: String(trackingPort), TRACKING_ARTIFACT_ROOT: join(artifacts, 'tracking'), INSTANCE_ID: group('tracking-0') },
        `${local(trackingPort)}/health/ready`,
      ),
      start(
        'trainer',
        {
          ...bus,
          TRAINER_PORT: String(trainerPort),
          TRAINER_ARTIFACT_ROOT: join(artifacts, 'models'),
          TRACKING_URI: local(trackingPort),
          CODE_VERSION: '0.1.0',
          TRAINER_TARGET: 'label',
          TRAINER_PARAMS: JSON.stringify({ epochs: 200 }),
          TRAINER_GROUP: group('trainer'),
          INSTANCE_ID: group('trainer-0'),
        },
        `${local(trainerPort)}/health/ready`,
      ),
      start(
        'registry',
        {
          ...bus,
          ...database,
          REGISTRY_PORT: String(registryPort),
          REGISTRY_ARTIFACT_ROOT: join(artifacts, 'registry'),
          // As embedded: the retrained model sees a different mix of data and may score a little lower on it.
          REGISTRY_GATE_TOLERANCE: '0.05',
          REGISTRY_GROUP: group('registry'),
          INSTANCE_ID: group('registry-0'),
        },
        `${url.registry}/health/ready`,
      ),
      start(
        'serving',
        {
          ...bus,
          SERVING_GRPC_PORT: String(grpcPort),
          SERVING_METRICS_PORT: String(servingMetrics),
          SERVING_SHUTDOWN_GRACE_S: '2',
          SERVING_GROUP: group('serving'),
          INSTANCE_ID: group('serving-0'),
        },
        `${local(servingMetrics)}/health/live`,
      ),
      start(
        'monitoring',
        {
          ...bus,
          ...database,
          MONITORING_PORT: String(monitoringPort),
          MONITORING_WINDOW_SIZE: String(WINDOW),
          MONITORING_CANARY_MIN_PREDICTIONS: String(PROMOTE_AFTER),
          MONITORING_CANARY_MIN_LABELS: '25',
          MONITORING_CANARY_TOLERANCE: '0.05',
          MONITORING_GROUP: group('monitoring'),
        },
        `${url.monitoring}/health/ready`,
      ),
      start(
        'loop',
        {
          ...bus,
          ...database,
          LOOP_PORT: String(loopPort),
          LOOP_FEATURE_VIEWS: `${model}:${view}`,
          LOOP_REGISTRY_URL: url.registry,
          LOOP_SWEEP_INTERVAL_MS: '200',
          LOOP_GROUP: group('loop'),
          INSTANCE_ID: group('loop-0'),
        },
        `${url.loop}/health/ready`,
      ),
    ]);
    mark(`${services.length} services up, each its own process (${services.map((s) => s.service).join(', ')})`);

    log = new KafkaEventLog(kafka, group('observer'), OBSERVED, ofThisRun);
    await log.start();
    producer = kafka.producer({ idempotent: true });
    await producer.connect();
  }, 150_000);

  afterAll(async () => {
    await traffic?.stop().catch(() => undefined);
    traffic?.close();
    await log?.stop().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
    await Promise.all(services.map((s) => s.stop()));
    if (!passed) {
      for (const s of services) console.log(`\n----- ${s.service} output -----\n${s.output.join('').slice(-20_000)}`);
      if (log) console.log(`\n----- events of this run seen on Kafka -----\n${log.events.map((o) => `${o.event.time} ${o.event.type} [${o.event.correlationId.slice(0, 8)}]`).join('\n')}`);
    }
    console.log(`\nclosed loop across processes (model ${model})\n${report.map((l) => `  ${l}`).join('\n')}\n`);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('closes the loop on its own: the retrained version is promoted and serves, no gRPC request fails', async () => {
    const events = log!;
    const stream = new SyntheticStream(7);
    /** Traffic has its own generator: it shifts once the shifted records are in the feature store. */
    const live = new SyntheticStream(11);
    const applied = async () => ((await (await fetch(`${url.featureStore}/stats`)).json()) as { applied: number }).applied;
    const produceRecords = async (count: number) => {
      const target = (await applied()) + count;
      for (let sent = 0; sent < count; sent += 250) {
        const records = Array.from({ length: Math.min(250, count - sent) }, () => stream.record());
        await producer!.send({ topic: `raw.${source}`, acks: -1, messages: records.map((r) => ({ key: String(r.entity), value: JSON.stringify(r) })) });
      }
      await waitFor(async () => (await applied()) >= target, `${count} records of raw.${source} in feature view ${view}`, 60_000);
    };
    const produceEvent = (event: AnyEvent) => producer!.send({ topic: event.type, acks: -1, messages: [{ key: event.subject, value: JSON.stringify(event) }] });

    const contract = await fetch(`${url.ingestion}/sources/${source}/contract`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        fields: {
          id: { type: 'string' },
          entity: { type: 'string' },
          ts: { type: 'timestamp' },
          ...Object.fromEntries(FEATURES.map((f) => [f, { type: 'number' }])),
          label: { type: 'integer', min: 0, max: 1 },
        },
        idField: 'id',
        timestampField: 'ts',
        entityKeyField: 'entity',
      }),
    });
    expect(contract.status).toBe(200);
    await produceRecords(RECORDS);
    mark(`${RECORDS} records produced to raw.${source} -> ingestion -> data.validated -> feature store`);

    // The first model: a retrain.requested from outside, the rest is the services' own doing.
    const bootstrap = createEvent('retrain.requested', { source: 'loop-e2e', subject: model, data: { model, featureView: view, reason: 'first model of the run' } });
    await produceEvent(bootstrap);
    const firstDataset = await waitFor(() => events.find('dataset.materialized', (e) => e.correlationId === bootstrap.id), 'the feature store to materialize the bootstrap dataset', 60_000);
    expect(firstDataset.data).toMatchObject({ featureView: view, model, rowCount: RECORDS });
    const firstDeployed = await waitFor(() => events.find('deployment.completed', (e) => e.correlationId === bootstrap.id), 'the first version deployed', 90_000);
    expect(firstDeployed.data.status).toBe('serving');
    const firstVersion = firstDeployed.data.version;
    mark(`first model: retrain.requested -> dataset -> training -> registry gate -> v${firstVersion} serving`);

    traffic = new Traffic(grpcAddress, model, (n) => live.rows(n), {
      rowsPerRequest: 5,
      concurrency: 3,
      pauseMs: 10,
      labels: {
        share: 0.5,
        // Long enough for serving's prediction.logged to reach monitoring before its label.
        delayMs: 1_000,
        publish: async (labels) => {
          await producer!.send({
            topic: 'label.observed',
            acks: -1,
            messages: labels.map((l) => {
              const event = createEvent('label.observed', { source: 'loop-e2e', subject: model, data: { predictionId: l.predictionId, model, label: l.label } });
              return { key: model, value: JSON.stringify(event) };
            }),
          });
        },
      },
    });
    traffic.start();
    await waitFor(() => events.find('model.promoted', (e) => e.correlationId === bootstrap.id && e.data.version === firstVersion), `v${firstVersion} promoted to champion`, 60_000);
    mark(`v${firstVersion} champion; gRPC traffic running (5 rows a request, 3 in flight, true labels of half the rows to label.observed 1 s later)`);

    // The unshifted stream is what the model was trained on: a full window of it is evaluated without drift.
    const window = await waitFor(
      async () => {
        const response = await fetch(`${url.monitoring}/models/${model}/drift`);
        if (!response.ok) return undefined;
        const result = (await response.json()) as { version: number; window: { size: number }; report: { datasetDrift: { share: number; drifted: boolean } } };
        return result.version === firstVersion ? result : undefined;
      },
      `monitoring to evaluate a window of v${firstVersion}`,
      60_000,
    );
    expect(window.report.datasetDrift.drifted).toBe(false);
    expect(events.find('drift.detected')).toBeUndefined();
    mark(`baseline: a window of ${window.window.size} predictions evaluated, ${Math.round(window.report.datasetDrift.share * 100)}% of columns drifted, no drift.detected`);

    stream.shifted = true;
    await produceRecords(RECORDS);
    live.shifted = true;
    mark(`shifted stream: ${RECORDS} records (means of f0..f5 +1.5 sd) in the feature store; traffic shifted`);

    const drift = await waitFor(() => events.find('drift.detected'), 'drift.detected', 60_000);
    const loopId = drift.correlationId;
    mark(`drift.detected for v${drift.data.version}: ${drift.data.features.filter((f) => f.drifted).length}/${drift.data.features.length} columns drifted`);

    const loop = await waitFor(
      async () => {
        const response = await fetch(`${url.loop}/api/loops/${loopId}`);
        if (!response.ok) return undefined;
        const { loop } = (await response.json()) as { loop: LoopRecord };
        return loop.status === 'closed' ? loop : undefined;
      },
      `the loop service to close loop ${loopId}`,
      150_000,
    );
    mark(`loop closed ${loop.outcome}: ${loop.outcomeReason}`);
    for (const stage of loop.stages.filter((s) => !s.ignored && s.type !== 'drift.detected')) report.push(`          loop stage ${stage.type.padEnd(21)} +${(stage.sincePreviousMs / 1000).toFixed(2)}s`);
    expect(loop).toMatchObject({ model, outcome: 'promoted' });
    const newVersion = loop.candidateVersion!;
    expect(newVersion).toBeGreaterThan(firstVersion);

    // The listing by model shows this loop too.
    const listed = (await (await fetch(`${url.loop}/api/loops?model=${model}`)).json()) as { loops: LoopRecord[] };
    expect(listed.loops.map((l) => [l.correlationId, l.outcome])).toContainEqual([loopId, 'promoted']);

    // Every stage was on Kafka under the loop's one correlation id, in causal order.
    const promoted = await waitFor(() => events.find('model.promoted', (e) => e.correlationId === loopId), 'model.promoted of the loop on Kafka', 30_000);
    expect(promoted.data).toMatchObject({ model, version: newVersion, alias: 'champion' });
    const ofLoop = events.loop(loopId);
    expect(LOOP_STAGES.filter((type) => !ofLoop.some((e) => e.type === type))).toEqual([]);
    // Causal order by the producers' clocks (one machine). model.registered and
    // deployment.requested leave the registry together and may carry the same millisecond.
    const firstTime = (type: EventType) => Date.parse(ofLoop.find((e) => e.type === type)!.time);
    const times = LOOP_STAGES.map(firstTime);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(ofLoop.filter((e) => e.type === 'training.failed' || e.type === 'model.rolled_back')).toEqual([]);
    const verdict = ofLoop.find((e) => e.type === 'canary.evaluated');
    expect(verdict).toMatchObject({ data: { model, version: newVersion, verdict: 'promote' } });
    report.push(`          canary verdict: ${verdict?.type === 'canary.evaluated' ? verdict.data.reason : ''}`);

    // Serving applies model.promoted on its own: the new version takes all unversioned traffic.
    await waitFor(
      async () => {
        for (let i = 0; i < 20; i++) if ((await traffic!.infer(live.rows(5).inputs)) !== String(newVersion)) return false;
        return true;
      },
      `v${newVersion} answering all of 20 requests in a row`,
      30_000,
    );
    await traffic.stop();
    mark(`v${newVersion} serves 100% of gRPC traffic`);
    expect(await traffic.infer([live.features()])).toBe(String(newVersion));
    const champion = (await (await fetch(`${url.registry}/api/2.0/mlflow/registered-models/alias?name=${model}&alias=champion`)).json()) as {
      model_version: { version: string };
    };
    expect(champion.model_version.version).toBe(String(newVersion));

    const { requests, failed, rows, labels, byVersion, lastError } = traffic.stats;
    report.push(
      `          gRPC: ${requests} requests (${rows} rows), ${failed} failed${lastError ? ` (last: ${lastError})` : ''}; by version ${JSON.stringify(byVersion)}; ${labels} labels produced`,
    );
    const monitor = (await (await fetch(`${url.monitoring}/status`)).json()) as { labels: { unmatched: number } };
    const performance = (await (await fetch(`${url.monitoring}/models/${model}/versions/${firstVersion}/performance`)).json()) as { labels?: number };
    report.push(`          monitoring: ${performance.labels ?? '?'} labels joined to v${firstVersion} predictions so far, ${monitor.labels.unmatched} matched no waiting prediction`);
    report.push(`          loop ${loopId.slice(0, 8)}: v${firstVersion} -> v${newVersion} in ${((loop.durationMs ?? 0) / 1000).toFixed(1)}s from drift.detected to model.promoted`);
    expect(failed).toBe(0);
    passed = true;
  }, 230_000);
});
