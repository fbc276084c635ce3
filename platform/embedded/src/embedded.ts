import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventBus, InProcessTransport, type Subscription } from '@mlops/bus';
import type { AnyEvent, EventType } from '@mlops/contracts';
import { loadFeatureStoreConfig, startFeatureStore, type FeatureStoreApp } from '@mlops/service-feature-store';
import { loadIngestionConfig, startIngestion, type IngestionApp } from '@mlops/service-ingestion';
import { loadMonitoringConfig, startMonitoring, type MonitoringApp } from '@mlops/service-monitoring';
import { loadRegistryConfig, startRegistry, type RegistryApp } from '@mlops/service-registry';
import { loadServingConfig, startServing, type ServingApp } from '@mlops/service-serving';
import { loadTrackingConfig, startTracking, type TrackingApp } from '@mlops/service-tracking';
import { loadTrainerConfig, startTrainer, type TrainerApp } from '@mlops/service-trainer';
import { Orchestrator } from './orchestrator';
import { Traffic } from './traffic';

export const MODEL = 'stream_model';
export const FEATURE_VIEW = 'stream_features';
export const SOURCE = 'stream';
export const FEATURES = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'];

export interface EmbeddedOptions {
  /** SQLite files, datasets, models and registry artifacts live here. */
  dataDir: string;
  /** Keep the data dir instead of wiping it at start. */
  keep?: boolean;
  /** Ingestion HTTP port (0: any free port). Other HTTP/gRPC servers use free ports. */
  port: number;
  /** gRPC port of serving (0: any free port). */
  grpcPort?: number;
  /** Records of the synthetic stream before the shift (the first model trains on them). */
  records: number;
  /** Records of the shifted stream. */
  shiftRecords?: number;
  /** Predictions per drift window (monitoring). */
  windowSize?: number;
  /** Successful predictions by a canary version before it is promoted. */
  promoteAfter?: number;
  epochs?: number;
  /** Per step of the loop; the run stops honestly (summary says where) when exceeded. */
  stepTimeoutMs?: number;
  serve: boolean;
  print: (line: string) => void;
}

export interface LoopEvent {
  type: EventType;
  correlationId: string;
  atMs: number;
  event: AnyEvent;
}

export interface StepTiming {
  step: string;
  ms: number;
  ok: boolean;
}

export interface EmbeddedSummary {
  produced: number;
  validated: number;
  rejected: number;
  rejectReasons: Record<string, number>;
  /** Steps in order with their duration; the last one is where a failed run stopped. */
  steps: StepTiming[];
  completed: boolean;
  stoppedAt?: string;
  firstVersion?: number;
  newVersion?: number;
  /** Version answering gRPC after the loop. */
  answeringVersion?: string;
  loopCorrelationId?: string;
  /** From drift.detected to model.promoted. */
  loopMs?: number;
  grpc: { requests: number; failed: number; rows: number; byVersion: Record<string, number>; lastError?: string };
  events: LoopEvent[];
  driftedFeatures: string[];
  /** A drift.detected before the traffic shifted (a false alarm). */
  driftBeforeShift: boolean;
}

/** Deterministic PRNG (mulberry32) and a standard normal from it. */
function random(seed: number): { uniform: () => number; normal: () => number } {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

const WEIGHTS = [1, -0.8, 0.6, 0.5, -0.4, 0.3, 0.2, -0.1];
/** The shift: the means of the first six features move by 1.5 standard deviations. */
const SHIFT = [1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 0, 0];

/** A synthetic tabular stream: 8 numeric features, a binary label from a fixed linear rule + noise. */
export class SyntheticStream {
  shifted = false;
  private readonly rng: ReturnType<typeof random>;
  private i = 0;

  constructor(seed = 7) {
    this.rng = random(seed);
  }

  features(): number[] {
    return FEATURES.map((_, k) => Math.round((this.rng.normal() + (this.shifted ? SHIFT[k] : 0)) * 1e4) / 1e4);
  }

  record(): Record<string, unknown> {
    const x = this.features();
    // Covariate shift only: the rule from features to label stays the same.
    const score = x.reduce((s, v, k) => s + v * WEIGHTS[k], 0) + 0.4 * this.rng.normal();
    const i = this.i++;
    return {
      id: `r-${i}`,
      entity: `e${i % 200}`,
      ts: new Date(Date.UTC(2026, 0, 1) + i * 1_000).toISOString(),
      ...Object.fromEntries(FEATURES.map((f, k) => [f, x[k]])),
      label: score > 0 ? 1 : 0,
    };
  }
}

const short = (id: string) => id.slice(0, 8);

function describe(event: AnyEvent, featureNames: (version: number) => string[]): string {
  switch (event.type) {
    case 'drift.detected': {
      const names = featureNames(event.data.version);
      const name = (f: string) => {
        const m = /^input\[(\d+)\]$/.exec(f);
        return m && names[Number(m[1])] ? names[Number(m[1])] : f;
      };
      const drifted = event.data.features.filter((f) => f.drifted);
      return `${event.data.model} v${event.data.version}: ${drifted.length}/${event.data.features.length} columns drifted (${drifted
        .map((f) => `${name(f.feature)} ${f.statistic}=${f.value.toPrecision(2)}`)
        .join(', ')}), window of ${event.data.window.size}`;
    }
    case 'retrain.requested':
      return `${event.data.model} from feature view ${event.data.featureView}`;
    case 'dataset.materialized':
      return `${event.data.datasetId} (${event.data.rowCount} rows, sha256 ${event.data.hash.slice(0, 12)})`;
    case 'training.started':
      return `job ${event.data.jobId} (${event.data.trainer})`;
    case 'training.completed':
      return `${event.data.model}: accuracy ${event.data.metrics.accuracy?.toFixed(3) ?? 'n/a'}, run ${short(event.data.runId)}`;
    case 'training.failed':
      return `${event.data.model}: ${event.data.error}`;
    case 'model.registered':
      return `${event.data.model} v${event.data.version} (artifact ${event.data.artifactHash.slice(0, 12)})`;
    case 'deployment.requested':
      return `${event.data.model} v${event.data.version}: gate passed, strategy ${event.data.strategy} (share ${event.data.canaryShare})`;
    case 'deployment.completed':
      return `${event.data.model} v${event.data.version}: ${event.data.status}${event.data.status === 'serving' ? ` (${Math.round(event.data.trafficShare * 100)}% of unversioned traffic)` : ''}${event.data.error ? ` (${event.data.error})` : ''}`;
    case 'model.promoted':
      return `${event.data.model} v${event.data.version} is ${event.data.alias}${event.data.previousVersion ? ` (was v${event.data.previousVersion})` : ''}`;
    case 'model.rolled_back':
      return `${event.data.model} v${event.data.version}: ${event.data.reason}`;
    default:
      return '';
  }
}

const LOOP_TYPES = [
  'drift.detected',
  'retrain.requested',
  'dataset.materialized',
  'training.started',
  'training.completed',
  'training.failed',
  'model.registered',
  'deployment.requested',
  'deployment.completed',
  'model.promoted',
  'model.rolled_back',
] as const satisfies readonly EventType[];

/**
 * Everything in one process on one in-process bus: ingestion, feature store, tracking,
 * trainer, registry, serving (gRPC) and monitoring, plus the orchestrator glue. Seeds a
 * synthetic stream, trains and serves the first model, sends gRPC traffic, shifts the
 * stream and follows the closed loop to the promotion of the retrained model.
 */
export async function runEmbedded(options: EmbeddedOptions): Promise<EmbeddedSummary> {
  const started = Date.now();
  const dataDir = resolve(options.dataDir);
  if (!options.keep) rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const windowSize = options.windowSize ?? 300;
  const promoteAfter = options.promoteAfter ?? 100;
  const stepTimeout = options.stepTimeoutMs ?? 60_000;
  const print = options.print;
  const elapsed = () => `[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s]`;

  const summary: EmbeddedSummary = {
    produced: 0,
    validated: 0,
    rejected: 0,
    rejectReasons: {},
    steps: [],
    completed: false,
    grpc: { requests: 0, failed: 0, rows: 0, byVersion: {} },
    events: [],
    driftedFeatures: [],
    driftBeforeShift: false,
  };

  const viewsFile = join(dataDir, 'feature-views.yaml');
  writeFileSync(
    viewsFile,
    [
      'featureViews:',
      `  - name: ${FEATURE_VIEW}`,
      `    source: ${SOURCE}`,
      '    entityKey: entity',
      '    timestampField: ts',
      '    features:',
      ...FEATURES.map((f) => `      - { name: ${f}, type: number }`),
      '      - { name: label, type: integer }',
      '',
    ].join('\n'),
  );

  const transport = new InProcessTransport();
  const inProcess = { inProcess: transport };
  const db = (name: string) => `sqlite:${join(dataDir, `${name}.db`)}`;
  const closers: (() => Promise<unknown>)[] = [];
  let traffic: Traffic | undefined;
  const observerSubs: Subscription[] = [];
  let orchestrator: Orchestrator | undefined;

  try {
    const tracking: TrackingApp = await startTracking(
      loadTrackingConfig({ BUS: 'in-process', DATABASE_URL: db('tracking'), TRACKING_PORT: '0', TRACKING_ARTIFACT_ROOT: join(dataDir, 'artifacts') }),
      { ...inProcess, logger: false },
    );
    closers.push(() => tracking.close());
    const ingestion: IngestionApp = await startIngestion(
      loadIngestionConfig({ BUS: 'in-process', DATABASE_URL: db('ingestion'), INGESTION_PORT: String(options.port) }),
      { ...inProcess, logger: false },
    );
    closers.push(() => ingestion.close());
    const featureStore: FeatureStoreApp = await startFeatureStore(
      loadFeatureStoreConfig({
        BUS: 'in-process',
        DATABASE_URL: db('feature-store'),
        FEATURE_VIEWS_FILE: viewsFile,
        FEATURE_STORE_ARTIFACT_ROOT: join(dataDir, 'datasets'),
        FEATURE_STORE_HTTP_PORT: '0',
        FEATURE_STORE_GRPC_PORT: '0',
      }),
      { ...inProcess, logger: false },
    );
    closers.push(() => featureStore.close());
    const trainer: TrainerApp = await startTrainer(
      loadTrainerConfig({
        BUS: 'in-process',
        TRAINER_PORT: '0',
        TRAINER_ARTIFACT_ROOT: join(dataDir, 'models'),
        TRAINER_TARGET: 'label',
        TRAINER_PARAMS: JSON.stringify({ epochs: options.epochs ?? 200 }),
        TRACKING_URI: tracking.url,
      }),
      { ...inProcess, logger: false },
    );
    closers.push(() => trainer.close());
    const registry: RegistryApp = await startRegistry(
      loadRegistryConfig({
        BUS: 'in-process',
        DATABASE_URL: db('registry'),
        REGISTRY_PORT: '0',
        REGISTRY_ARTIFACT_ROOT: join(dataDir, 'registry'),
        // The retrained model sees a different mix of data; it may score a little lower on it.
        REGISTRY_GATE_TOLERANCE: '0.05',
      }),
      { ...inProcess, logger: false },
    );
    closers.push(() => registry.close());
    const serving: ServingApp = await startServing(
      loadServingConfig({ BUS: 'in-process', SERVING_GRPC_PORT: String(options.grpcPort ?? 0), SERVING_SHUTDOWN_GRACE_S: '2' }),
      { ...inProcess, logger: false },
    );
    closers.push(() => serving.close());
    const monitoring: MonitoringApp = await startMonitoring(
      loadMonitoringConfig({ BUS: 'in-process', MONITORING_PORT: '0', MONITORING_WINDOW_SIZE: String(windowSize) }),
      { ...inProcess, logger: false, defaultMetrics: false },
    );
    closers.push(() => monitoring.close());
    print(
      `all services up in one process (in-process bus, SQLite + artifacts under ${dataDir}): ingestion ${ingestion.url}, ` +
        `feature store ${featureStore.url}, tracking ${tracking.url}, trainer ${trainer.url}, registry ${registry.url}, ` +
        `monitoring ${monitoring.url}, serving gRPC ${serving.address}`,
    );

    // ---- observer: progress lines and the event log ----
    const observer = new EventBus(transport);
    const featuresByVersion = new Map<number, string[]>();
    const featuresByRun = new Map<string, string[]>();
    observerSubs.push(
      await observer.subscribeEvents({
        group: 'embedded-summary',
        types: ['data.validated', 'data.rejected'],
        handle: async (event) => {
          const e = event as AnyEvent;
          if (e.type === 'data.validated') summary.validated++;
          if (e.type === 'data.rejected') {
            summary.rejected++;
            for (const r of e.data.reasons) summary.rejectReasons[r.field] = (summary.rejectReasons[r.field] ?? 0) + 1;
          }
        },
      }),
      await observer.subscribeEvents({
        group: 'embedded-progress',
        types: LOOP_TYPES,
        handle: async (event) => {
          const e = event as AnyEvent;
          if (e.type === 'training.completed') featuresByRun.set(e.data.runId, (e.data.params.features ?? '').split(',').filter(Boolean));
          if (e.type === 'model.registered' && e.data.runId) featuresByVersion.set(e.data.version, featuresByRun.get(e.data.runId) ?? []);
          summary.events.push({ type: e.type, correlationId: e.correlationId, atMs: Date.now(), event: e });
          print(`${elapsed()} ${e.type.padEnd(21)} ${describe(e, (v) => featuresByVersion.get(v) ?? [])}  [loop ${short(e.correlationId)}]`);
        },
      }),
    );

    orchestrator = new Orchestrator(
      {
        bus: observer,
        promote: (model, version, reason) => registry.service.promote(model, version, reason),
        champion: async (model) => {
          try {
            return Number((await registry.service.getByAlias(model, 'champion')).version);
          } catch {
            return undefined;
          }
        },
        lineage: async (model, version) => {
          const l = await registry.service.lineage(model, version);
          return { runId: l.run_id ?? undefined, datasetId: l.dataset.id ?? undefined };
        },
        setReference: (model, version, body) => monitoring.service.setReference(model, version, body),
      },
      { model: MODEL, featureView: FEATURE_VIEW, promoteAfter, log: (line) => print(`${elapsed()} ${line.trim()}`) },
    );
    await orchestrator.start();

    // ---- steps ----
    let stepStart = Date.now();
    const step = (name: string, ok: boolean) => {
      summary.steps.push({ step: name, ms: Date.now() - stepStart, ok });
      stepStart = Date.now();
      if (!ok) summary.stoppedAt = name;
      return ok;
    };
    const until = async (predicate: () => boolean, timeoutMs = stepTimeout): Promise<boolean> => {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline) return false;
        await sleep(20);
      }
      return true;
    };
    const find = (type: EventType, where: (e: AnyEvent) => boolean = () => true) => summary.events.find((e) => e.type === type && where(e.event));

    const stream = new SyntheticStream(7);
    /** Traffic has its own generator: it shifts only once the shifted records are in the feature store. */
    const live = new SyntheticStream(11);
    const ingest = async (count: number): Promise<boolean> => {
      const target = featureStore.service.stats.applied + count;
      for (let sent = 0; sent < count; sent += 250) {
        const n = Math.min(250, count - sent);
        await transport.send(
          Array.from({ length: n }, () => {
            const record = stream.record();
            return { topic: `raw.${SOURCE}`, key: String(record.entity), value: JSON.stringify(record) };
          }),
        );
        summary.produced += n;
        await sleep(5);
      }
      return until(() => featureStore.service.stats.applied >= target);
    };

    await ingestion.service.registerContract(SOURCE, {
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
    });
    print(`${elapsed()} data contract "${SOURCE}" registered; streaming ${options.records} records (8 numeric features, binary label) to raw.${SOURCE}`);

    const run = async (): Promise<void> => {
      if (!step(`seed ${options.records} records: ingestion -> feature store`, await ingest(options.records))) return;
      print(`${elapsed()} feature store applied ${featureStore.service.stats.applied} rows of view ${FEATURE_VIEW}`);

      // First model: dataset -> training -> gate (no champion) -> deployment -> champion.
      const dataset = await featureStore.service.materialize(FEATURE_VIEW, {});
      const bootstrap = featureStore.service.materializedEvent(dataset, { model: MODEL });
      await observer.publish(bootstrap);
      const firstDeployed = await until(() => !!find('deployment.completed', (e) => e.correlationId === bootstrap.correlationId));
      if (!step('first model: dataset -> training -> registry gate -> deployment', firstDeployed)) return;
      const deployed = find('deployment.completed', (e) => e.correlationId === bootstrap.correlationId)!.event as AnyEvent & { type: 'deployment.completed' };
      summary.firstVersion = deployed.data.version;
      if (deployed.data.status !== 'serving') return void step('first model serving', false);

      traffic = new Traffic(serving.address, MODEL, (n) => Array.from({ length: n }, () => live.features()), {
        rowsPerRequest: 5,
        concurrency: 3,
        pauseMs: 2,
      });
      traffic.start();
      print(`${elapsed()} gRPC traffic to ${serving.address} (ModelInfer, 5 rows a request, 3 in flight)`);
      if (!step('first model promoted to champion', await until(() => !!find('model.promoted', (e) => e.correlationId === bootstrap.correlationId)))) return;

      const baselineRows = traffic.stats.rows + Math.ceil(windowSize * 1.5);
      if (!step(`baseline traffic (${Math.ceil(windowSize * 1.5)} predictions, no drift expected)`, await until(() => traffic!.stats.rows >= baselineRows))) return;
      if (find('drift.detected')) print(`${elapsed()} WARNING: drift detected before the shift`);

      stream.shifted = true;
      const shiftRecords = options.shiftRecords ?? options.records;
      print(`${elapsed()} shifting the stream: means of f0..f5 move by 1.5 sd; ingesting ${shiftRecords} shifted records`);
      if (!step(`shifted stream: ${shiftRecords} records ingested`, await ingest(shiftRecords))) return;
      summary.driftBeforeShift = !!find('drift.detected');
      live.shifted = true;
      print(`${elapsed()} prediction traffic now follows the shifted distribution`);

      const driftStart = Date.now();
      const loopSteps: [string, EventType][] = [
        ['drift detected', 'drift.detected'],
        ['retrain requested', 'retrain.requested'],
        ['dataset materialized', 'dataset.materialized'],
        ['training completed', 'training.completed'],
        ['registered + gate', 'model.registered'],
        ['deployment requested (canary)', 'deployment.requested'],
        ['deployment completed', 'deployment.completed'],
        [`promotion after ${promoteAfter} canary predictions`, 'model.promoted'],
      ];
      const drift = () => find('drift.detected');
      // Loop steps are timed by their events: each from the previous event of the loop.
      let previousAt = driftStart;
      for (const [name, type] of loopSteps) {
        const ok = await until(() => {
          const d = drift();
          return !!d && !!find(type, (e) => e.correlationId === d.correlationId);
        });
        if (!ok) return void step(name, false);
        const at = find(type, (e) => e.correlationId === drift()!.correlationId)!.atMs;
        summary.steps.push({ step: name, ms: Math.max(0, at - previousAt), ok: true });
        previousAt = at;
        stepStart = Date.now();
      }
      const d = drift()!;
      summary.loopCorrelationId = d.correlationId;
      summary.driftedFeatures = (d.event as AnyEvent & { type: 'drift.detected' }).data.features.filter((f) => f.drifted).map((f) => f.feature);
      const promoted = find('model.promoted', (e) => e.correlationId === d.correlationId)!;
      summary.newVersion = (promoted.event as AnyEvent & { type: 'model.promoted' }).data.version;
      summary.loopMs = promoted.atMs - d.atMs;
      print(`${elapsed()} loop closed in ${((promoted.atMs - d.atMs) / 1000).toFixed(2)}s (drift -> promotion; ${((promoted.atMs - driftStart) / 1000).toFixed(2)}s after the shifted traffic began)`);
      await traffic.stop();
      // Serving applies model.promoted on its own subscription: the canary takes all traffic then.
      await until(() => serving.repository.route(MODEL)?.stable === summary.newVersion, 5_000);
      summary.answeringVersion = await traffic.infer([live.features()]);
      summary.completed = summary.answeringVersion === String(summary.newVersion);
      step(`v${summary.newVersion} answers gRPC`, summary.completed);
    };
    await run();

    if (traffic) {
      await traffic.stop();
      Object.assign(summary.grpc, { ...traffic.stats, byVersion: { ...traffic.stats.byVersion } });
    }
    summary.grpc.failed = traffic?.stats.failed ?? 0;

    if (options.serve) {
      print(`serving; gRPC ${serving.address} (KServe v2), ingestion POST ${ingestion.url}/sources/${SOURCE}/records — Ctrl-C to stop`);
      await new Promise<void>((done) => process.once('SIGINT', done).once('SIGTERM', done));
    }
    return summary;
  } finally {
    traffic?.close();
    await orchestrator?.stop().catch(() => undefined);
    for (const s of observerSubs) await s.stop().catch(() => undefined);
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await transport.close().catch(() => undefined);
  }
}
