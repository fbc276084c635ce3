import { Logger, Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ApiErrorFilter, configureHttpApp } from '@mlops/http';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createEventBus, type EventBus, type InProcessTransport, type Subscription } from '@mlops/bus';
import type { AnyEvent } from '@mlops/contracts';
import { monitoringErrors } from './http/http-errors';
import { MonitoringController } from './http/monitoring.controller';
import { MONITORING_LOOP, MONITORING_METRICS, MONITORING_SERVICE } from './http/tokens';
import { MonitoringLoop } from './loop/monitoring-loop';
import { MonitoringMetrics } from './metrics';
import type { MonitoringConfig } from './monitoring.config';
import { MonitoringService } from './monitoring.service';
import { MonitoringStore } from './store/monitoring.store';

export interface MonitoringApp {
  app: INestApplication;
  service: MonitoringService;
  loop: MonitoringLoop;
  store: MonitoringStore;
  metrics: MonitoringMetrics;
  bus: EventBus;
  /** The bound HTTP address, e.g. http://127.0.0.1:3007 */
  url: string;
  close(): Promise<void>;
}

@Module({})
class MonitoringModule {
  static with(providers: { service: MonitoringService; loop: MonitoringLoop; metrics: MonitoringMetrics }): DynamicModule {
    return {
      module: MonitoringModule,
      controllers: [MonitoringController],
      providers: [
        { provide: MONITORING_SERVICE, useValue: providers.service },
        { provide: MONITORING_LOOP, useValue: providers.loop },
        { provide: MONITORING_METRICS, useValue: providers.metrics },
      ],
    };
  }
}

/**
 * Wires the monitoring service: its store (Postgres or SQLite), the consumers
 * (prediction.logged -> drift windows, label join and canary counts; label.observed ->
 * performance; lineage and deployment events -> references, champions, canaries), the
 * drift.detected / performance.degraded / canary.evaluated producer, HTTP API, /metrics.
 */
export async function startMonitoring(
  config: MonitoringConfig,
  options: { inProcess?: InProcessTransport; logger?: boolean; now?: () => number; defaultMetrics?: boolean } = {},
): Promise<MonitoringApp> {
  const log = new Logger('monitoring');
  const quiet = options.logger === false;
  const loopLog = quiet
    ? { log: () => undefined, warn: () => undefined, error: (m: string) => log.error(m) }
    : { log: (m: string) => log.log(m), warn: (m: string) => log.warn(m), error: (m: string) => log.error(m) };
  const metrics = new MonitoringMetrics(options.defaultMetrics ?? true);
  const store = await MonitoringStore.open(config.DATABASE_URL, config.MONITORING_TABLE_PREFIX);
  const bus = createEventBus(config, {
    service: 'monitoring',
    inProcess: options.inProcess,
    logger: { warn: (m) => log.warn(m), error: (m) => log.error(m) },
  });
  let loop: MonitoringLoop | undefined;
  const service = new MonitoringService(
    {
      windowSize: config.MONITORING_WINDOW_SIZE,
      cooldownSeconds: config.MONITORING_COOLDOWN_S,
      datasetDriftShare: config.MONITORING_DATASET_DRIFT_SHARE,
      referenceFromFirst: config.MONITORING_REFERENCE_FROM_FIRST,
      now: options.now,
      onReferenceLearned: (model, version, body) => loop?.referenceLearned(model, version, body),
    },
    metrics,
  );
  loop = new MonitoringLoop(service, store, bus, metrics, {
    referenceRows: config.MONITORING_REFERENCE_ROWS,
    outputs: {
      label: config.MONITORING_LABEL_OUTPUT,
      probabilities: config.MONITORING_PROBABILITY_OUTPUT,
      prediction: config.MONITORING_PREDICTION_OUTPUT,
    },
    aggregate: { aucBins: config.MONITORING_AUC_BINS, positiveLabel: config.MONITORING_POSITIVE_LABEL },
    classificationMetric: config.MONITORING_CLASSIFICATION_METRIC,
    regressionMetric: config.MONITORING_REGRESSION_METRIC,
    performanceTolerance: config.MONITORING_PERFORMANCE_TOLERANCE,
    performanceMinLabels: config.MONITORING_PERFORMANCE_MIN_LABELS,
    canaryMinPredictions: config.MONITORING_CANARY_MIN_PREDICTIONS,
    canaryMinLabels: config.MONITORING_CANARY_MIN_LABELS,
    canaryLabelWaitMs: config.MONITORING_CANARY_LABEL_WAIT_S * 1000,
    earlyLabelWaitMs: config.MONITORING_LABEL_EARLY_WAIT_S * 1000,
    canaryTolerance: config.MONITORING_CANARY_TOLERANCE,
    canaryConfidence: config.MONITORING_CANARY_CONFIDENCE,
    cooldownSeconds: config.MONITORING_COOLDOWN_S,
    flushMs: config.MONITORING_STATE_FLUSH_MS,
    pendingMax: config.MONITORING_LABEL_PENDING_MAX,
    labelTtlMs: config.MONITORING_LABEL_TTL_S * 1000,
    now: options.now,
    log: loopLog,
  });
  const running = loop;
  metrics.labelJoin = () => ({ pending: running.pending.size, evicted: running.pending.evictedUnlabelled });
  await running.start();

  const app = await NestFactory.create<NestExpressApplication>(MonitoringModule.with({ service, loop: running, metrics }), {
    logger: quiet ? false : ['log', 'warn', 'error'],
  });
  configureHttpApp(app, { service: 'monitoring', filter: new ApiErrorFilter('monitoring', monitoringErrors), apiToken: config.API_TOKEN, metrics: metrics.registry });
  app.useBodyParser('json', { limit: config.MONITORING_BODY_LIMIT });
  await app.listen(config.MONITORING_PORT, config.MONITORING_HOST);
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');

  const group = config.MONITORING_GROUP;
  const subscriptions: Subscription[] = [
    await bus.subscribeEvents({
      group,
      types: ['prediction.logged'],
      handle: async (event) => {
        await running.onPrediction(event);
      },
    }),
    // A batch of labels is one transaction (a transaction per label kept up with about 120/s).
    await bus.subscribeEventBatches({
      group: `${group}.labels`,
      types: ['label.observed'],
      maxBatchSize: config.MONITORING_LABEL_BATCH_MAX,
      handleBatch: async (events) => {
        await running.onLabels(events);
      },
    }),
    await bus.subscribeEvents({
      group: `${group}.lifecycle`,
      types: ['dataset.materialized', 'training.completed', 'model.registered', 'deployment.completed', 'model.promoted', 'model.rolled_back'],
      handle: async (event) => {
        const e = event as AnyEvent;
        if (e.type === 'deployment.completed') await running.onDeployment(e);
        else if (e.type === 'model.promoted' || e.type === 'model.rolled_back') await running.onChampionChange(e);
        else if (e.type === 'dataset.materialized' || e.type === 'training.completed' || e.type === 'model.registered') await running.onLineage(e);
      },
    }),
  ];
  log.log(
    `monitoring listening on ${url} (bus: ${bus.transport.kind}, database: ${config.DATABASE_URL.split(':')[0]}, window: ${config.MONITORING_WINDOW_SIZE})`,
  );

  return {
    app,
    service,
    loop: running,
    store,
    metrics,
    bus,
    url,
    close: async () => {
      for (const subscription of subscriptions) await subscription.stop();
      await running.stop();
      await app.close();
      await bus.close();
      await store.close();
    },
  };
}
