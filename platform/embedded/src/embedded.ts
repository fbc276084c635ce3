import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { INestApplication } from '@nestjs/common';
import { EventBus, InProcessTransport, type Subscription } from '@mlops/bus';
import { createEvent, type AnyEvent, type EventType } from '@mlops/contracts';
import { loadFeatureStoreConfig, startFeatureStore, type FeatureStoreApp } from '@mlops/service-feature-store';
import { loadIngestionConfig, startIngestion, type IngestionApp } from '@mlops/service-ingestion';
import { LOOP_EVENT_TYPES, loadLoopConfig, startLoop, type LoopApp, type LoopDetail } from '@mlops/service-loop';
import { loadMonitoringConfig, startMonitoring, type MonitoringApp } from '@mlops/service-monitoring';
import { loadRegistryConfig, startRegistry, type RegistryApp } from '@mlops/service-registry';
import { loadServingConfig, startServing, type ServingApp } from '@mlops/service-serving';
import { loadTrackingConfig, startTracking, type TrackingApp } from '@mlops/service-tracking';
import { loadTrainerConfig, seededRandom, startTrainer, type TrainerApp } from '@mlops/service-trainer';
import { startFrontDoor, type FrontDoor } from './front-door/front-door';
import type { FrontDoorService } from './front-door/routes';
import { Traffic, type LabelledRows } from './traffic';

export const MODEL = 'stream_model';
export const FEATURE_VIEW = 'stream_features';
export const SOURCE = 'stream';
export const FEATURES = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'];

export interface EmbeddedOptions {
  /** SQLite files, datasets, models and registry artifacts live here. */
  dataDir: string;
  /** Keep the data dir instead of wiping it at start. */
  keep?: boolean;
  /**
   * The one HTTP port (0: any free port): the front door serving every service's HTTP API
   * (front-door/routes.ts): MLflow tracking and registry at `/api/2.0/mlflow/...`, each service
   * under `/<service>/`. gRPC has its own ports.
   */
  port: number;
  /** gRPC port of serving (0: any free port). */
  grpcPort?: number;
  /** Records of the synthetic stream before the shift (the first model trains on them). */
  records: number;
  /** Records of the shifted stream. */
  shiftRecords?: number;
  /**
   * Labels of the shifted records as ingested (what the retrained model learns from):
   * `true` (default) or `inverted`, a broken labelling pipeline. Live traffic keeps its
   * true labels, so an inverted retrain scores worse than the champion on them.
   */
  shiftedLabels?: 'true' | 'inverted';
  /** Predictions per drift window (monitoring). */
  windowSize?: number;
  /** Predictions by a canary version before the monitor's verdict. */
  promoteAfter?: number;
  /** Labels canary and champion each need for a labels-based verdict (else the canary is promoted on predictions alone). */
  canaryMinLabels?: number;
  /** How much worse than the champion on live labels a canary may be (monitoring). */
  canaryTolerance?: number;
  /** How much worse than the champion a candidate may score at the registry's gate. */
  gateTolerance?: number;
  /** Share of answered rows whose true label is sent as label.observed. */
  labelShare?: number;
  epochs?: number;
  /** Per step of the loop; the run stops honestly (summary says where) when exceeded. */
  stepTimeoutMs?: number;
  serve: boolean;
  /**
   * false: no demo (`--no-demo`): no `stream` contract, `stream_features` view, `stream_model`
   * or traffic; the platform starts empty and serves at once. Default true.
   */
  demo?: boolean;
  /**
   * Called once the loop has ended, with the platform still up (instead of `serve`'s wait for
   * a signal); the platform closes when it resolves. Tests use the front door through it.
   */
  whileServing?: (platform: { url: string; model: string; grpc: string }) => Promise<void>;
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
  /** The front door (MLFLOW_TRACKING_URI); closed when runEmbedded resolves. */
  url?: string;
  produced: number;
  validated: number;
  rejected: number;
  rejectReasons: Record<string, number>;
  /** Steps in order with their duration; the last one is where a failed run stopped. */
  steps: StepTiming[];
  /** The loop ended (any outcome) and serving answers as that outcome says it should. */
  completed: boolean;
  stoppedAt?: string;
  firstVersion?: number;
  /** The candidate of the loop (retrained version), promoted or not. */
  newVersion?: number;
  /** Version answering gRPC after the loop. */
  answeringVersion?: string;
  /** Versions answering a burst of requests after the loop ended (all to one version when it serves 100%). */
  answeredAfter: Record<string, number>;
  /** The champion in the registry after the loop. */
  championAfter?: number;
  loopCorrelationId?: string;
  /** The loop as the loop service records it (stages, outcome, durations). */
  loop?: LoopDetail;
  /** From drift.detected to the event that ended the loop. */
  loopMs?: number;
  /** Wall-clock marks (ms since epoch) of the loop: first drifted prediction traffic, drift detected, loop ended, new version on 100% of traffic. */
  timeline: { shiftedAt?: number; driftAt?: number; endedAt?: number; servingAllAt?: number };
  grpc: { requests: number; failed: number; rows: number; labels: number; byVersion: Record<string, number>; lastError?: string };
  events: LoopEvent[];
  driftedFeatures: string[];
  /** A drift.detected before the traffic shifted (a false alarm). */
  driftBeforeShift: boolean;
}

/** Deterministic PRNG (the trainer's mulberry32) and a standard normal from it. */
function random(seed: number): { uniform: () => number; normal: () => number } {
  const uniform = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

const WEIGHTS = [1, -0.8, 0.6, 0.5, -0.4, 0.3, 0.2, -0.1];
/** The shift: the means of the first six features move by 1.5 standard deviations. */
const SHIFT = [1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 0, 0];

/** A synthetic tabular stream: 8 numeric features, a binary label from a fixed linear rule + noise. */
export class SyntheticStream {
  shifted = false;
  /** Ingested labels are flipped (a broken labelling pipeline); the rule itself does not change. */
  invertLabels = false;
  private readonly rng: ReturnType<typeof random>;
  private i = 0;

  constructor(seed = 7) {
    this.rng = random(seed);
  }

  features(): number[] {
    return FEATURES.map((_, k) => Math.round((this.rng.normal() + (this.shifted ? SHIFT[k] : 0)) * 1e4) / 1e4);
  }

  /** Features and their true label. Covariate shift only: the rule from features to label stays the same. */
  labelled(): { x: number[]; label: number } {
    const x = this.features();
    const score = x.reduce((s, v, k) => s + v * WEIGHTS[k], 0) + 0.4 * this.rng.normal();
    return { x, label: score > 0 ? 1 : 0 };
  }

  /** n rows for prediction traffic, with the labels the traffic reports later. */
  rows(n: number): LabelledRows {
    const rows = Array.from({ length: n }, () => this.labelled());
    return { inputs: rows.map((r) => r.x), labels: rows.map((r) => r.label) };
  }

  record(): Record<string, unknown> {
    const { x, label } = this.labelled();
    const i = this.i++;
    return {
      id: `r-${i}`,
      entity: `e${i % 200}`,
      ts: new Date(Date.UTC(2026, 0, 1) + i * 1_000).toISOString(),
      ...Object.fromEntries(FEATURES.map((f, k) => [f, x[k]])),
      label: this.invertLabels ? 1 - label : label,
    };
  }
}

const short = (id: string) => id.slice(0, 8);

function describe(event: AnyEvent): string {
  switch (event.type) {
    case 'drift.detected': {
      // Features by name: the names travel from the data contract through the model to the evidence.
      const drifted = event.data.features.filter((f) => f.drifted);
      return `${event.data.model} v${event.data.version}: ${drifted.length}/${event.data.features.length} columns drifted (${drifted
        .map((f) => `${f.feature} ${f.statistic}=${f.value.toPrecision(2)}`)
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
    case 'canary.evaluated':
      return `${event.data.model} v${event.data.version}: ${event.data.verdict} (${event.data.reason})`;
    default:
      return '';
  }
}




/**
 * Everything in one process on one in-process bus: ingestion, feature store, tracking,
 * trainer, registry, serving (gRPC), monitoring and the loop controller. Seeds a synthetic
 * stream, trains and serves the first model, sends gRPC traffic (and, late, the true labels
 * of a share of it), shifts the stream and follows the closed loop until the loop service
 * records its outcome: the services alone close it, this function only drives and watches.
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
    answeredAfter: {},
    timeline: {},
    grpc: { requests: 0, failed: 0, rows: 0, labels: 0, byVersion: {} },
    events: [],
    driftedFeatures: [],
    driftBeforeShift: false,
  };

  const demo = options.demo !== false;
  const viewsFile = join(dataDir, 'feature-views.yaml');
  if (demo) writeFileSync(
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

  try {
    // One HTTP port: every service's Express app is mounted on the front door (no port of its own).
    const frontDoor: FrontDoor = await startFrontDoor({ port: options.port });
    closers.push(() => frontDoor.close());
    summary.url = frontDoor.url;
    const mounted = (service: FrontDoorService) => ({ ...inProcess, logger: false as const, mountedAt: frontDoor.urlOf(service) });
    const mount = (service: FrontDoorService, app: INestApplication) => frontDoor.mount(service, app.getHttpAdapter().getInstance() as RequestListener);

    const tracking: TrackingApp = await startTracking(
      loadTrackingConfig({ BUS: 'in-process', DATABASE_URL: db('tracking'), TRACKING_ARTIFACT_ROOT: join(dataDir, 'artifacts') }),
      mounted('tracking'),
    );
    closers.push(() => tracking.close());
    mount('tracking', tracking.app);
    const ingestion: IngestionApp = await startIngestion(loadIngestionConfig({ BUS: 'in-process', DATABASE_URL: db('ingestion') }), mounted('ingestion'));
    closers.push(() => ingestion.close());
    mount('ingestion', ingestion.app);
    const featureStore: FeatureStoreApp = await startFeatureStore(
      loadFeatureStoreConfig({
        BUS: 'in-process',
        DATABASE_URL: db('feature-store'),
        FEATURE_VIEWS_FILE: demo ? viewsFile : undefined,
        FEATURE_STORE_ARTIFACT_ROOT: join(dataDir, 'datasets'),
        FEATURE_STORE_GRPC_PORT: '0',
      }),
      mounted('feature-store'),
    );
    closers.push(() => featureStore.close());
    mount('feature-store', featureStore.app);
    const trainer: TrainerApp = await startTrainer(
      loadTrainerConfig({
        BUS: 'in-process',
        TRAINER_ARTIFACT_ROOT: join(dataDir, 'models'),
        // The feature store's datasets: POST /jobs {"dataset": "<view>-v<N>"} finds them here.
        TRAINER_DATASET_ROOT: join(dataDir, 'datasets'),
        TRAINER_TARGET: 'label',
        TRAINER_PARAMS: JSON.stringify({ epochs: options.epochs ?? 200 }),
        // As an MLflow user: the front door serves the MLflow API at its root.
        TRACKING_URI: frontDoor.url,
      }),
      mounted('trainer'),
    );
    closers.push(() => trainer.close());
    mount('trainer', trainer.app);
    const registry: RegistryApp = await startRegistry(
      loadRegistryConfig({
        BUS: 'in-process',
        DATABASE_URL: db('registry'),
        REGISTRY_ARTIFACT_ROOT: join(dataDir, 'registry'),
        // runs:/ and models:/ sources and the download location of trained versions.
        REGISTRY_TRACKING_URI: frontDoor.url,
        // The retrained model sees a different mix of data; it may score a little lower on it.
        REGISTRY_GATE_TOLERANCE: String(options.gateTolerance ?? 0.05),
      }),
      mounted('registry'),
    );
    closers.push(() => registry.close());
    mount('registry', registry.app);
    const serving: ServingApp = await startServing(
      loadServingConfig({ BUS: 'in-process', SERVING_GRPC_PORT: String(options.grpcPort ?? 0), SERVING_SHUTDOWN_GRACE_S: '2' }),
      mounted('serving'),
    );
    closers.push(() => serving.close());
    frontDoor.mount('serving', serving.http!);
    const monitoring: MonitoringApp = await startMonitoring(
      loadMonitoringConfig({
        BUS: 'in-process',
        DATABASE_URL: db('monitoring'),
        MONITORING_WINDOW_SIZE: String(windowSize),
        MONITORING_CANARY_MIN_PREDICTIONS: String(promoteAfter),
        MONITORING_CANARY_MIN_LABELS: String(options.canaryMinLabels ?? 25),
        MONITORING_CANARY_TOLERANCE: String(options.canaryTolerance ?? 0.05),
      }),
      { ...mounted('monitoring'), defaultMetrics: false },
    );
    closers.push(() => monitoring.close());
    mount('monitoring', monitoring.app);
    const loop: LoopApp = await startLoop(
      loadLoopConfig({
        BUS: 'in-process',
        DATABASE_URL: db('loop'),
        LOOP_FEATURE_VIEWS: demo ? `${MODEL}:${FEATURE_VIEW}` : '',
        LOOP_REGISTRY_URL: registry.url,
        LOOP_FEATURE_STORE_URL: featureStore.url,
        LOOP_SWEEP_INTERVAL_MS: '200',
      }),
      { ...mounted('loop'), defaultMetrics: false },
    );
    closers.push(() => loop.close());
    mount('loop', loop.app);
    print(
      `all services up in one process (in-process bus, SQLite + artifacts under ${dataDir}), HTTP on one port: ` +
        `${frontDoor.url} (MLFLOW_TRACKING_URI=${frontDoor.url} for tracking and the model registry); ingestion ${ingestion.url}, ` +
        `feature store ${featureStore.url}, tracking ${tracking.url}, trainer ${trainer.url}, registry ${registry.url}, ` +
        `serving ${frontDoor.urlOf('serving')}, monitoring ${monitoring.url}, loop ${loop.url}; gRPC: serving ${serving.address}, feature store ${featureStore.grpcAddress}`,
    );

    // ---- observer (display only): progress lines and the event log ----
    const observer = new EventBus(transport);
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
        types: LOOP_EVENT_TYPES,
        handle: async (event) => {
          const e = event as AnyEvent;
          summary.events.push({ type: e.type, correlationId: e.correlationId, atMs: Date.now(), event: e });
          print(`${elapsed()} ${e.type.padEnd(21)} ${describe(e)}  [loop ${short(e.correlationId)}]`);
        },
      }),
    );

    // ---- steps ----
    let stepStart = Date.now();
    const step = (name: string, ok: boolean) => {
      summary.steps.push({ step: name, ms: Date.now() - stepStart, ok });
      stepStart = Date.now();
      if (!ok) summary.stoppedAt = name;
      return ok;
    };
    const until = async (predicate: () => boolean | Promise<boolean>, timeoutMs = stepTimeout): Promise<boolean> => {
      const deadline = Date.now() + timeoutMs;
      while (!(await predicate())) {
        if (Date.now() > deadline) return false;
        await sleep(20);
      }
      return true;
    };
    const find = (type: EventType, where: (e: AnyEvent) => boolean = () => true) => summary.events.find((e) => e.type === type && where(e.event));
    const champion = async (): Promise<number | undefined> => {
      try {
        return Number((await registry.service.getByAlias(MODEL, 'champion')).version);
      } catch {
        return undefined;
      }
    };

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

    const registerDemoContract = () => ingestion.service.registerContract(SOURCE, {
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

    const run = async (): Promise<void> => {
      await registerDemoContract();
      print(`${elapsed()} data contract "${SOURCE}" registered; streaming ${options.records} records (8 numeric features, binary label) to raw.${SOURCE}`);
      if (!step(`seed ${options.records} records: ingestion -> feature store`, await ingest(options.records))) return;
      print(`${elapsed()} feature store applied ${featureStore.service.stats.applied} rows of view ${FEATURE_VIEW}`);

      // First model: dataset -> training -> gate (no champion) -> deployment -> champion (the registry promotes a first model).
      const dataset = await featureStore.service.materialize(FEATURE_VIEW, {});
      const bootstrap = featureStore.service.materializedEvent(dataset, { model: MODEL });
      await observer.publish(bootstrap);
      const firstDeployed = await until(() => !!find('deployment.completed', (e) => e.correlationId === bootstrap.correlationId));
      if (!step('first model: dataset -> training -> registry gate -> deployment', firstDeployed)) return;
      const deployed = find('deployment.completed', (e) => e.correlationId === bootstrap.correlationId)!.event as AnyEvent & { type: 'deployment.completed' };
      summary.firstVersion = deployed.data.version;
      if (deployed.data.status !== 'serving') return void step('first model serving', false);

      const labelShare = options.labelShare ?? 0.5;
      traffic = new Traffic(serving.address, MODEL, (n) => live.rows(n), {
        rowsPerRequest: 5,
        concurrency: 3,
        pauseMs: 2,
        labels: {
          share: labelShare,
          delayMs: 50,
          publish: (labels) =>
            observer.publish(
              labels.map((l) => createEvent('label.observed', { source: 'embedded-traffic', subject: MODEL, data: { predictionId: l.predictionId, model: MODEL, label: l.label } })),
            ),
        },
      });
      traffic.start();
      print(`${elapsed()} gRPC traffic to ${serving.address} (ModelInfer, 5 rows a request, 3 in flight); true labels of ${Math.round(labelShare * 100)}% of the rows follow as label.observed`);
      if (!step('first model promoted to champion', await until(() => !!find('model.promoted', (e) => e.correlationId === bootstrap.correlationId)))) return;

      const baselineRows = traffic.stats.rows + Math.ceil(windowSize * 1.5);
      if (!step(`baseline traffic (${Math.ceil(windowSize * 1.5)} predictions, no drift expected)`, await until(() => traffic!.stats.rows >= baselineRows))) return;
      if (find('drift.detected')) print(`${elapsed()} WARNING: drift detected before the shift`);

      stream.shifted = true;
      stream.invertLabels = options.shiftedLabels === 'inverted';
      const shiftRecords = options.shiftRecords ?? options.records;
      print(
        `${elapsed()} shifting the stream: means of f0..f5 move by 1.5 sd; ingesting ${shiftRecords} shifted records` +
          (stream.invertLabels ? ' WITH INVERTED LABELS (a broken labelling pipeline)' : ''),
      );
      if (!step(`shifted stream: ${shiftRecords} records ingested`, await ingest(shiftRecords))) return;
      summary.driftBeforeShift = !!find('drift.detected');
      live.shifted = true;
      summary.timeline.shiftedAt = Date.now();
      print(`${elapsed()} prediction traffic now follows the shifted distribution`);

      const drift = () => find('drift.detected');
      if (!step('drift detected', await until(() => !!drift()))) return;
      const d = drift()!;
      summary.loopCorrelationId = d.correlationId;
      summary.timeline.driftAt = d.atMs;
      summary.driftedFeatures = (d.event as AnyEvent & { type: 'drift.detected' }).data.features.filter((f) => f.drifted).map((f) => f.feature);

      // The loop service owns the loop: wait for it to record an outcome.
      const ended = await until(async () => {
        summary.loop = await loop.service.get(d.correlationId).catch(() => undefined);
        return summary.loop?.status === 'closed';
      }, stepTimeout * 4);
      summary.timeline.endedAt = Date.now();
      if (!ended) {
        const last = summary.loop?.stages.filter((s) => !s.ignored).at(-1);
        return void step(`loop ended (last stage: ${last?.type ?? 'none'})`, false);
      }
      const record = summary.loop!;
      for (const stage of record.stages.filter((s) => !s.ignored && s.type !== 'drift.detected')) {
        summary.steps.push({ step: `loop: ${stage.type}`, ms: Math.max(0, stage.sincePreviousMs), ok: true });
      }
      stepStart = Date.now();
      summary.loopMs = record.durationMs ?? undefined;
      summary.newVersion = record.candidateVersion ?? undefined;
      print(`${elapsed()} loop ${short(record.correlationId)} ended ${record.outcome} in ${((record.durationMs ?? 0) / 1000).toFixed(2)}s: ${record.outcomeReason}`);

      // Serving applies model.promoted / model.rolled_back on its own subscription.
      const expected = record.outcome === 'promoted' ? summary.newVersion : summary.firstVersion;
      const routed = await until(() => {
        const route = serving.repository.route(MODEL);
        return !!route && route.stable === expected && !route.canary;
      }, 5_000);
      summary.timeline.servingAllAt = Date.now();
      await traffic.stop();
      if (!step(`v${expected} serves 100% of traffic`, routed)) return;
      for (let i = 0; i < 20; i++) {
        const batch = live.rows(5);
        const version = await traffic.infer(batch.inputs);
        if (version) summary.answeredAfter[version] = (summary.answeredAfter[version] ?? 0) + 1;
      }
      summary.answeringVersion = await traffic.infer([live.features()]);
      summary.championAfter = await champion();
      summary.completed = record.outcome !== 'failed' && summary.answeringVersion === String(expected) && summary.championAfter === expected;
      step(`v${expected} answers gRPC and is champion (loop outcome ${record.outcome})`, summary.completed);
    };
    if (demo) await run();
    else print(`${elapsed()} no demo (--no-demo): no source, feature view or model of its own; bring your own (README "Bring your own data")`);

    if (traffic) {
      await traffic.stop();
      Object.assign(summary.grpc, { ...traffic.stats, byVersion: { ...traffic.stats.byVersion } });
    }
    summary.grpc.failed = traffic?.stats.failed ?? 0;

    if (options.whileServing) {
      await options.whileServing({ url: frontDoor.url, model: MODEL, grpc: serving.address });
    } else if (options.serve) {
      print(
        `serving on ${frontDoor.url} (MLFLOW_TRACKING_URI=${frontDoor.url}; GET / lists the service paths) and gRPC ${serving.address} (KServe v2); ` +
          `ingestion POST ${ingestion.url}/sources/${SOURCE}/records, loops ${loop.url}/api/loops — Ctrl-C to stop`,
      );
      await new Promise<void>((done) => process.once('SIGINT', done).once('SIGTERM', done));
    }
    return summary;
  } finally {
    traffic?.close();
    for (const s of observerSubs) await s.stop().catch(() => undefined);
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await transport.close().catch(() => undefined);
  }
}
