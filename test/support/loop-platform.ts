import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { KafkaAdminKit, KafkaRawProducer, startGroupsAtEnd, type KafkaKitOptions } from '@mlops/bus';
import { createEvent, type AnyEvent, type EventType } from '@mlops/contracts';
import { FEATURES, SyntheticStream } from '../../platform/embedded/src/embedded';
import { Traffic } from '../../platform/embedded/src/traffic';
import { infraEnv } from '../infra/infra-env';
import { KafkaEventLog } from './kafka-event-log';
import { NginxProcess } from './nginx';
import { freePort, ServiceProcess } from './service-process';
import { waitFor } from './wait-for';

/** The stages a promoted loop goes through, in causal order (training.started is not required). */
export const LOOP_STAGES = [
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

/** Stages whose work must happen once per loop, whatever failed in between. */
const ONCE_PER_LOOP = ['retrain.requested', 'dataset.materialized', 'training.completed', 'model.registered', 'deployment.requested', 'model.promoted'] as const satisfies readonly EventType[];

const OBSERVED: readonly EventType[] = [...LOOP_STAGES, 'training.started', 'training.failed', 'model.rolled_back'];

/** Settings of the loop as the embedded platform runs it (platform/embedded/src/embedded.ts). */
// Produced at once over 3 partitions: about 1,000 a partition. Ingestion sends the outputs of
// one fetched batch in one produce request, which the broker refuses above 1 MB (about 1,500
// data.validated events), so a larger backlog on one partition stalls it (see the report).
const RECORDS = 3_000;
const WINDOW = 300;
const PROMOTE_AFTER = 100;

export type LoopServiceName = 'ingestion' | 'feature-store' | 'tracking' | 'trainer' | 'registry' | 'serving' | 'monitoring' | 'loop';

interface LoopStage {
  type: string;
  ignored: boolean;
  sincePreviousMs: number;
}

export interface LoopRecord {
  correlationId: string;
  model: string;
  status: 'open' | 'closed';
  outcome: string | null;
  outcomeReason: string | null;
  candidateVersion: number | null;
  durationMs: number | null;
  stages: LoopStage[];
}

/** A fault injected mid-loop (injectAt), judged by heldAtFault() once the loop has closed. */
export interface Injection {
  loopId: string;
  when: EventType;
  /** The stage that ends the work `when` hands a service. */
  done: EventType;
  /** Date.now() just before the fault. */
  firedAt: number;
  did: string;
}

/** What the platform looks like once the monitor has detected drift on the shifted stream. */
export interface Drifted {
  loopId: string;
  /** Correlation id of the first model's retrain.requested (not a drift loop). */
  bootstrapId: string;
  firstVersion: number;
  traffic: Traffic;
  /** Rows of the live (shifted) traffic, for requests of the test's own. */
  live: SyntheticStream;
}

/**
 * The closed loop as docker-compose runs it, on this machine: real Kafka, Postgres and Redis
 * (deploy/local), every service its own Node process from its production entry point with
 * compose's environment. Tests drive it only from outside, as a user would: a data contract
 * over HTTP, records and one retrain.requested produced to Kafka, prediction traffic over
 * KServe v2 gRPC with late labels produced to Kafka. `report` collects what happened, with
 * the time since start of each step.
 */
export class LoopPlatform {
  readonly run = `loop${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  readonly model = `model_${this.run}`;
  readonly view = `view_${this.run}`;
  readonly source = `src_${this.run}`;
  readonly kafka: KafkaKitOptions;
  readonly report: string[] = [];
  readonly url: Record<'ingestion' | 'featureStore' | 'registry' | 'monitoring' | 'loop' | 'frontDoor', string> = {
    ingestion: '',
    featureStore: '',
    registry: '',
    monitoring: '',
    loop: '',
    frontDoor: '',
  };
  grpcAddress = '';
  private readonly services = new Map<LoopServiceName, { process: ServiceProcess; ready: string }>();
  private readonly started = Date.now();
  private stepStart = this.started;
  private dir = '';
  private producer?: KafkaRawProducer;
  private traffic?: Traffic;
  private eventLog?: KafkaEventLog;
  /** The front door: a real nginx running deploy/nginx/front-door.conf.template for these ports. */
  private nginx?: NginxProcess;
  private readonly injections: Injection[] = [];

  /**
   * `idempotentProducer: false` for tests that restart the broker: an idempotent producer whose
   * sequence state an outage broke is refused for ever (OutOfOrderSequence). Records and labels
   * carry their own ids, so a record or label sent twice is applied once either way.
   */
  constructor(private readonly options: { idempotentProducer?: boolean } = {}) {
    const infra = infraEnv();
    this.kafka = { clientId: this.run, brokers: infra.KAFKA_BROKERS.split(','), logLevel: 'nothing', retry: { retries: 10, initialRetryTime: 200 } };
  }

  /** The platform's events of this run as an outside consumer sees them on Kafka. */
  get events(): KafkaEventLog {
    if (!this.eventLog) throw new Error('the platform is not started: call start() first');
    return this.eventLog;
  }

  private group(service: string): string {
    return `${this.run}-${service}`;
  }

  mark(step: string): void {
    this.report.push(`${((Date.now() - this.started) / 1000).toFixed(1).padStart(6)}s  ${step} (${((Date.now() - this.stepStart) / 1000).toFixed(1)}s)`);
    this.stepStart = Date.now();
  }

  private ofThisRun = (e: AnyEvent): boolean => {
    const data = e.data as { model?: string; featureView?: string };
    return e.subject === this.model || data.model === this.model || data.featureView === this.view;
  };

  async start(): Promise<void> {
    const infra = infraEnv();
    this.dir = mkdtempSync(join(tmpdir(), 'loop-platform-'));
    const viewsFile = join(this.dir, 'feature-views.yaml');
    writeFileSync(
      viewsFile,
      [
        'featureViews:',
        `  - name: ${this.view}`,
        `    source: ${this.source}`,
        '    entityKey: entity',
        '    timestampField: ts',
        '    features:',
        ...FEATURES.map((f) => `      - { name: ${f}, type: number }`),
        '      - { name: label, type: integer }',
        '',
      ].join('\n'),
    );

    const group = (service: string) => this.group(service);
    // Every consumer group of this run starts at the current end of the shared topics. Ingestion
    // consumes raw.<source> of every source with a contract in the shared database, so all of them.
    const admin = new KafkaAdminKit(this.kafka);
    const rawTopics = (await admin.listTopics().finally(() => admin.close())).filter((t) => t.startsWith('raw.') && !t.endsWith('.dlq'));
    await startGroupsAtEnd(this.kafka, {
      [group('ingestion')]: [...rawTopics, `raw.${this.source}`],
      [group('feature-store')]: ['data.validated'],
      [group('feature-store.retrain')]: ['retrain.requested'],
      [group('trainer')]: ['dataset.materialized'],
      [group('registry')]: ['training.completed'],
      [group('registry.canary')]: ['canary.evaluated', 'deployment.completed'],
      [group('serving')]: ['deployment.requested', 'model.promoted', 'model.rolled_back'],
      [group('monitoring')]: ['prediction.logged'],
      [group('monitoring.labels')]: ['label.observed'],
      [group('monitoring.lifecycle')]: ['dataset.materialized', 'training.completed', 'model.registered', 'deployment.completed', 'model.promoted', 'model.rolled_back'],
      [group('loop')]: [...OBSERVED, 'performance.degraded'],
      [group('loop.new-data')]: ['data.validated'],
      [group('observer')]: OBSERVED,
    });
    this.mark('consumer groups of this run start at the end of the shared topics');

    const [ingestionPort, fsHttp, fsGrpc, trackingPort, trainerPort, registryPort, grpcPort, servingMetrics, monitoringPort, loopPort] = await Promise.all(
      Array.from({ length: 10 }, () => freePort()),
    );
    const local = (port: number) => `http://127.0.0.1:${port}`;
    this.url.ingestion = local(ingestionPort);
    this.url.featureStore = local(fsHttp);
    this.url.registry = local(registryPort);
    this.url.monitoring = local(monitoringPort);
    this.url.loop = local(loopPort);
    this.grpcAddress = `127.0.0.1:${grpcPort}`;

    // docker-compose.yml's environment, on loopback; the artifacts dir stands for its shared volume.
    const bus = { BUS: 'kafka', KAFKA_BROKERS: infra.KAFKA_BROKERS };
    const database = { DATABASE_URL: infra.DATABASE_URL };
    const artifacts = join(this.dir, 'artifacts');
    const start = (service: LoopServiceName, env: Record<string, string>, ready: string) => {
      const process = new ServiceProcess(service, env);
      this.services.set(service, { process, ready });
      process.start();
      return process.waitUntilReady(ready, 90_000);
    };
    await Promise.all([
      start(
        'ingestion',
        { ...bus, ...database, INGESTION_HOST: '127.0.0.1', INGESTION_PORT: String(ingestionPort), INGESTION_GROUP: group('ingestion'), INSTANCE_ID: group('ingestion-0') },
        `${this.url.ingestion}/health/ready`,
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
          REDIS_KEY_PREFIX: this.run,
          FEATURE_STORE_GROUP: group('feature-store'),
          INSTANCE_ID: group('feature-store-0'),
        },
        `${this.url.featureStore}/health/ready`,
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
          REGISTRY_TRACKING_URI: local(trackingPort),
          // As embedded: the retrained model sees a different mix of data and may score a little lower on it.
          REGISTRY_GATE_TOLERANCE: '0.05',
          REGISTRY_GROUP: group('registry'),
          INSTANCE_ID: group('registry-0'),
        },
        `${this.url.registry}/health/ready`,
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
          MONITORING_GROUP: group('monitoring'),
        },
        `${this.url.monitoring}/health/ready`,
      ),
      start(
        'loop',
        {
          ...bus,
          ...database,
          LOOP_PORT: String(loopPort),
          LOOP_FEATURE_VIEWS: `${this.model}:${this.view}`,
          LOOP_REGISTRY_URL: this.url.registry,
          LOOP_SWEEP_INTERVAL_MS: '200',
          LOOP_GROUP: group('loop'),
          INSTANCE_ID: group('loop-0'),
        },
        `${this.url.loop}/health/ready`,
      ),
    ]);
    this.mark(`${this.services.size} services up, each its own process (${[...this.services.keys()].join(', ')})`);

    // As docker-compose's front-door service: the same nginx template, upstreams on loopback.
    this.nginx = await NginxProcess.start(await freePort(), {
      ingestion: ingestionPort,
      'feature-store': fsHttp,
      tracking: trackingPort,
      registry: registryPort,
      trainer: trainerPort,
      serving: servingMetrics,
      monitoring: monitoringPort,
      loop: loopPort,
    });
    this.url.frontDoor = this.nginx.url;
    this.mark(`front door: nginx on ${this.url.frontDoor} (deploy/nginx/front-door.conf.template)`);

    this.eventLog = new KafkaEventLog(this.kafka, group('observer'), OBSERVED, this.ofThisRun);
    await this.eventLog.start();
    this.producer = await KafkaRawProducer.connect(this.kafka, { idempotent: this.options.idempotentProducer ?? true });
  }

  /**
   * SIGKILL of one service (no shutdown hooks), then the same process started again with the
   * same environment (ports, group, INSTANCE_ID), as an orchestrator restarts a crashed pod.
   * Resolves once it is ready again, with how long it was gone.
   */
  async killAndRestart(service: LoopServiceName): Promise<number> {
    const entry = this.services.get(service);
    if (!entry) throw new Error(`no service '${service}' in this platform`);
    const t0 = Date.now();
    await entry.process.kill();
    entry.process.start();
    await entry.process.waitUntilReady(entry.ready, 90_000);
    return Date.now() - t0;
  }

  private async applied(): Promise<number> {
    return ((await (await fetch(`${this.url.featureStore}/stats`)).json()) as { applied: number }).applied;
  }

  private async produceRecords(stream: SyntheticStream, count: number): Promise<void> {
    const target = (await this.applied()) + count;
    for (let sent = 0; sent < count; sent += 250) {
      const records = Array.from({ length: Math.min(250, count - sent) }, () => stream.record());
      await this.producer!.send(`raw.${this.source}`, records.map((r) => ({ key: String(r.entity), value: JSON.stringify(r) })));
    }
    await waitFor(async () => (await this.applied()) >= target, `${count} records of raw.${this.source} in feature view ${this.view}`, 60_000);
  }

  private async produceEvent(event: AnyEvent): Promise<void> {
    await this.producer!.send(event.type, [{ key: event.subject, value: JSON.stringify(event) }]);
  }

  /**
   * Everything before the fault-free part of the loop: a data contract, records, a first model
   * from one retrain.requested, the champion under gRPC traffic with late labels, a baseline
   * window without drift; then the stream shifts and the monitor detects drift on its own.
   * Resolves with the drift's loop (correlation id) and the running traffic.
   */
  async driveToDrift(): Promise<Drifted> {
    const events = this.events;
    const stream = new SyntheticStream(7);
    /** Traffic has its own generator: it shifts once the shifted records are in the feature store. */
    const live = new SyntheticStream(11);

    const contract = await fetch(`${this.url.ingestion}/sources/${this.source}/contract`, {
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
    await this.produceRecords(stream, RECORDS);
    this.mark(`${RECORDS} records produced to raw.${this.source} -> ingestion -> data.validated -> feature store`);

    // The first model: a retrain.requested from outside, the rest is the services' own doing.
    const bootstrap = createEvent('retrain.requested', { source: 'loop-e2e', subject: this.model, data: { model: this.model, featureView: this.view, reason: 'first model of the run' } });
    await this.produceEvent(bootstrap);
    const firstDataset = await waitFor(() => events.find('dataset.materialized', (e) => e.correlationId === bootstrap.id), 'the feature store to materialize the bootstrap dataset', 60_000);
    expect(firstDataset.data).toMatchObject({ featureView: this.view, model: this.model, rowCount: RECORDS });
    const firstDeployed = await waitFor(() => events.find('deployment.completed', (e) => e.correlationId === bootstrap.id), 'the first version deployed', 90_000);
    expect(firstDeployed.data.status).toBe('serving');
    const firstVersion = firstDeployed.data.version;
    this.mark(`first model: retrain.requested -> dataset -> training -> registry gate -> v${firstVersion} serving`);

    const traffic = new Traffic(this.grpcAddress, this.model, (n) => live.rows(n), {
      rowsPerRequest: 5,
      concurrency: 3,
      pauseMs: 10,
      labels: {
        share: 0.5,
        // Long enough for serving's prediction.logged to reach monitoring before its label.
        delayMs: 1_000,
        publish: async (labels) => {
          await this.producer!.send(
            'label.observed',
            labels.map((l) => {
              const event = createEvent('label.observed', { source: 'loop-e2e', subject: this.model, data: { predictionId: l.predictionId, model: this.model, label: l.label } });
              return { key: this.model, value: JSON.stringify(event) };
            }),
          );
        },
      },
    });
    this.traffic = traffic;
    traffic.start();
    await waitFor(() => events.find('model.promoted', (e) => e.correlationId === bootstrap.id && e.data.version === firstVersion), `v${firstVersion} promoted to champion`, 60_000);
    this.mark(`v${firstVersion} champion; gRPC traffic running (5 rows a request, 3 in flight, true labels of half the rows to label.observed 1 s later)`);

    // The unshifted stream is what the model was trained on: a full window of it is evaluated without drift.
    const window = await waitFor(
      async () => {
        const response = await fetch(`${this.url.monitoring}/models/${this.model}/drift`);
        if (!response.ok) return undefined;
        const result = (await response.json()) as { version: number; window: { size: number }; report: { datasetDrift: { share: number; drifted: boolean } } };
        return result.version === firstVersion ? result : undefined;
      },
      `monitoring to evaluate a window of v${firstVersion}`,
      60_000,
    );
    expect(window.report.datasetDrift.drifted).toBe(false);
    expect(events.find('drift.detected')).toBeUndefined();
    this.mark(`baseline: a window of ${window.window.size} predictions evaluated, ${Math.round(window.report.datasetDrift.share * 100)}% of columns drifted, no drift.detected`);

    stream.shifted = true;
    await this.produceRecords(stream, RECORDS);
    live.shifted = true;
    this.mark(`shifted stream: ${RECORDS} records (means of f0..f5 +1.5 sd) in the feature store; traffic shifted`);

    const drift = await waitFor(() => events.find('drift.detected'), 'drift.detected', 60_000);
    this.mark(`drift.detected for v${drift.data.version}: ${drift.data.features.filter((f) => f.drifted).length}/${drift.data.features.length} columns drifted`);
    return { loopId: drift.correlationId, bootstrapId: bootstrap.id, firstVersion, traffic, live };
  }

  /** The loop as the loop service records it, once closed. */
  async closedLoop(loopId: string, timeoutMs: number): Promise<LoopRecord> {
    const loop = await waitFor(
      async () => {
        const response = await fetch(`${this.url.loop}/api/loops/${loopId}`);
        if (!response.ok) return undefined;
        const { loop } = (await response.json()) as { loop: LoopRecord };
        return loop.status === 'closed' ? loop : undefined;
      },
      `the loop service to close loop ${loopId}`,
      timeoutMs,
    );
    this.mark(`loop closed ${loop.outcome}: ${loop.outcomeReason}`);
    for (const stage of loop.stages.filter((s) => !s.ignored && s.type !== 'drift.detected')) this.report.push(`          loop stage ${stage.type.padEnd(21)} +${(stage.sincePreviousMs / 1000).toFixed(2)}s`);
    return loop;
  }

  /**
   * Waits for the loop to close `promoted` with a newer version, for its model.promoted on Kafka,
   * and for serving to apply it: the new version answers 20 unversioned requests in a row. Then
   * stops the traffic (its stats are final).
   */
  async promotedAndServing(drifted: Drifted): Promise<{ loop: LoopRecord; newVersion: number }> {
    const { loopId, firstVersion, traffic, live } = drifted;
    const loop = await this.closedLoop(loopId, 150_000);
    expect(loop).toMatchObject({ model: this.model, outcome: 'promoted' });
    const newVersion = loop.candidateVersion!;
    expect(newVersion).toBeGreaterThan(firstVersion);
    await waitFor(() => this.events.find('model.promoted', (e) => e.correlationId === loopId), 'model.promoted of the loop on Kafka', 30_000);
    await waitFor(
      async () => {
        for (let i = 0; i < 20; i++) if ((await traffic.infer(live.rows(5).inputs)) !== String(newVersion)) return false;
        return true;
      },
      `v${newVersion} answering all of 20 requests in a row`,
      30_000,
    );
    await traffic.stop();
    this.mark(`v${newVersion} serves 100% of gRPC traffic`);
    return { loop, newVersion };
  }

  /**
   * Injects `fault` once `when` of the loop is on Kafka (at once if it already is). `done` is the
   * stage that ends the work `when` hands a service: whether the service still held that work
   * when the fault hit is known only afterwards (the observer lags the producers), so the
   * returned injection is judged by heldAtFault() once the loop has closed. `fault` resolves
   * with what it did.
   */
  async injectAt(loopId: string, when: EventType, done: EventType, fault: () => Promise<string>): Promise<Injection> {
    const events = this.events;
    await waitFor(() => events.find(when, (e) => e.correlationId === loopId), `${when} of loop ${loopId}`, 90_000);
    const latest = events.loop(loopId).at(-1)?.type;
    const firedAt = Date.now();
    const did = await fault();
    const injection: Injection = { loopId, when, done, firedAt, did };
    this.injections.push(injection);
    this.report.push(`          injected once ${when} of the loop was on Kafka (latest stage seen: ${latest}): ${did}`);
    return injection;
  }

  /**
   * Whether the service still held the injection's work when the fault hit: the loop's first
   * `done` on Kafka was created after it (producers stamp `time` on this machine's clock), or
   * there is none. `false`: the fault came after the stage had passed, and tested nothing.
   */
  heldAtFault(injection: Injection): boolean {
    const done = this.events.find(injection.done, (e) => e.correlationId === injection.loopId);
    return !done || Date.parse(done.time) >= injection.firedAt;
  }

  /**
   * What every fault test of the loop checks, by counting and comparing: the loop closes
   * `promoted` and its version then serves all traffic; each stage that does work happened once
   * (distinct event ids: a redelivered event keeps its id); no other loop was opened; the
   * registry holds exactly the first and the new version; no gRPC request failed.
   */
  async expectPromotedOnce(drifted: Drifted): Promise<void> {
    const { loopId, bootstrapId, firstVersion, traffic } = drifted;
    const events = this.events;
    const { newVersion } = await this.promotedAndServing(drifted);

    const ofLoop = (type: EventType) => events.events.filter((o) => o.event.type === type && o.event.correlationId === loopId);
    const idsOf = (type: EventType) => new Set(ofLoop(type).map((o) => o.event.id)).size;
    const counts = Object.fromEntries(ONCE_PER_LOOP.map((type) => [type, idsOf(type)]));
    const otherLoops = [...new Set(events.events.map((o) => o.event.correlationId))].filter((id) => id !== loopId && id !== bootstrapId);
    const listedLoops = (await this.loops()).map((l) => l.correlationId).filter((id) => id !== bootstrapId);
    const versions = await this.registeredVersions();
    const failures = ofLoop('training.failed').length + ofLoop('model.rolled_back').length;
    const { requests, failed, lastError } = traffic.stats;
    this.report.push(`          checked: events of the loop by distinct id ${JSON.stringify(counts)} (expected 1 each); training.started ${idsOf('training.started')}, canary.evaluated ${idsOf('canary.evaluated')}`);
    this.report.push(`          checked: training.failed + model.rolled_back of the loop: ${failures} (expected 0)`);
    this.report.push(`          checked: correlation ids other than the bootstrap's and the loop's on Kafka: ${otherLoops.length}; drift loops listed by the loop service: ${listedLoops.length} (expected 1)`);
    this.report.push(`          checked: registered versions of ${this.model}: [${versions.join(', ')}] (expected [${firstVersion}, ${newVersion}])`);
    this.report.push(`          checked: gRPC ${requests} requests, ${failed} failed (expected 0)${lastError ? `, last error: ${lastError}` : ''}`);
    for (const injection of this.injections.filter((i) => i.loopId === loopId)) {
      const held = this.heldAtFault(injection);
      this.report.push(`          fault at ${injection.when}: ${held ? `hit while the work was held (${injection.done} came after it)` : `hit after ${injection.done} was produced: it tested nothing of that stage`}`);
    }

    expect(counts).toEqual(Object.fromEntries(ONCE_PER_LOOP.map((type) => [type, 1])));
    expect({ failures, otherLoops, listedLoops, versions, failed }).toEqual({ failures: 0, otherLoops: [], listedLoops: [loopId], versions: [firstVersion, newVersion], failed: 0 });
  }

  /** The loops the loop service lists for this run's model, newest first. */
  async loops(): Promise<LoopRecord[]> {
    return ((await (await fetch(`${this.url.loop}/api/loops?model=${this.model}`)).json()) as { loops: LoopRecord[] }).loops;
  }

  /** Version numbers the registry holds for this run's model (MLflow model-versions/search). */
  async registeredVersions(): Promise<number[]> {
    const response = await fetch(`${this.url.registry}/api/2.0/mlflow/model-versions/search?filter=${encodeURIComponent(`name = '${this.model}'`)}&max_results=1000`);
    if (!response.ok) throw new Error(`model-versions/search: ${response.status} ${await response.text()}`);
    const { model_versions = [] } = (await response.json()) as { model_versions?: { version: string }[] };
    return model_versions.map((v) => Number(v.version)).sort((a, b) => a - b);
  }

  /** Stops everything; unless `passed`, prints each service's output and the events seen first. */
  async stop(title: string, passed: boolean): Promise<void> {
    await this.traffic?.stop().catch(() => undefined);
    this.traffic?.close();
    await this.eventLog?.stop().catch(() => undefined);
    await this.producer?.close().catch(() => undefined);
    const nginxLog = this.nginx?.log() ?? '';
    await this.nginx?.stop();
    await Promise.all([...this.services.values()].map((s) => s.process.stop()));
    if (!passed) {
      if (this.nginx) console.log(`\n----- front door (nginx) -----\n${nginxLog.slice(-5_000)}`);
      for (const [name, s] of this.services) console.log(`\n----- ${name} output -----\n${s.process.output.join('').slice(-20_000)}`);
      if (this.eventLog) console.log(`\n----- events of this run seen on Kafka -----\n${this.eventLog.events.map((o) => `${o.event.time} ${o.event.type} [${o.event.correlationId.slice(0, 8)}]`).join('\n')}`);
    }
    if (this.eventLog?.unreadable) this.report.push(`          ${this.eventLog.unreadable} message(s) on the observed topics were not JSON (not attributable to this run)`);
    console.log(`\n${title} (model ${this.model})\n${this.report.map((l) => `  ${l}`).join('\n')}\n`);
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    // A message of this run that broke the event contract fails the run, whatever else passed.
    this.eventLog?.expectContractKept();
  }
}
