import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createEventBus, type EventBus, type InProcessTransport } from '@mlops/bus';
import { ApiErrorFilter, configureHttpApp, serveHttpApp } from '@mlops/http';
import { exportConsumerLag, startBusConsumers } from '@mlops/runtime';
import { CanaryWatch } from './canary/canary-watch';
import { DriftWatch } from './drift/drift-watch';
import { MonitoringMetrics } from './metrics';
import type { MonitoringConfig } from './monitoring.config';
import { MonitoringModule } from './monitoring.module';
import { monitoringSettings } from './monitoring.settings';
import type { MonitoringLog } from './monitoring.tokens';
import type { EarlyLabels } from './performance/early-labels';
import { LabelJoin } from './performance/label-join';
import type { PendingPredictions } from './performance/pending-predictions';
import { VersionPerformance } from './performance/version-performance';
import { PredictionIntake } from './predictions/prediction-intake';
import { ReferenceResolver } from './references/reference-resolver';
import { MonitoringStatus } from './status/monitoring-status';
import { openMonitoringDatabase } from './store/monitoring-database';
import { MonitoringRepository } from './store/monitoring.repository';

/**
 * The monitor's entry points as one object (what MonitoringLoop offered before it was split
 * by use case); tests and bench/loop drive them directly. Each delegates to its owner.
 */
export interface MonitoringEntryPoints {
  readonly pending: PendingPredictions;
  readonly early: EarlyLabels;
  readonly unmatchedLabels: number;
  onPrediction: PredictionIntake['onPrediction'];
  onLabel: LabelJoin['onLabel'];
  onLabels: LabelJoin['onLabels'];
  onLineage: ReferenceResolver['onLineage'];
  onDeployment: CanaryWatch['onDeployment'];
  onChampionChange: CanaryWatch['onChampionChange'];
  setReference: ReferenceResolver['setReference'];
  performanceOf: VersionPerformance['performanceOf'];
  modelStatus: MonitoringStatus['modelStatus'];
  status: MonitoringStatus['status'];
}

export interface MonitoringApp {
  app: INestApplication;
  /** Drift windows and their references. */
  service: DriftWatch;
  loop: MonitoringEntryPoints;
  store: MonitoringRepository;
  metrics: MonitoringMetrics;
  bus: EventBus;
  /** The bound HTTP address, e.g. http://127.0.0.1:3007 */
  url: string;
  close(): Promise<void>;
}

function entryPoints(app: INestApplication): MonitoringEntryPoints {
  const [intake, labels, references, canaries, performance, status] = [
    app.get(PredictionIntake),
    app.get(LabelJoin),
    app.get(ReferenceResolver),
    app.get(CanaryWatch),
    app.get(VersionPerformance),
    app.get(MonitoringStatus),
  ];
  return {
    pending: labels.pending,
    early: labels.early,
    get unmatchedLabels() {
      return labels.unmatchedLabels;
    },
    onPrediction: (event) => intake.onPrediction(event),
    onLabel: (event) => labels.onLabel(event),
    onLabels: (events) => labels.onLabels(events),
    onLineage: (event) => references.onLineage(event),
    onDeployment: (event) => canaries.onDeployment(event),
    onChampionChange: (event) => canaries.onChampionChange(event),
    setReference: (model, version, body) => references.setReference(model, version, body),
    performanceOf: (model, version) => performance.performanceOf(model, version),
    modelStatus: (model) => status.modelStatus(model),
    status: () => status.status(),
  };
}

/**
 * Starts the monitoring service: its store (Postgres or SQLite), the consumers
 * (prediction.logged -> drift windows, label join and canary counts; label.observed ->
 * performance; lineage and deployment events -> references, champions, canaries), the
 * drift.detected / performance.degraded / canary.evaluated producer, HTTP API, /metrics.
 */
export async function startMonitoring(
  config: MonitoringConfig,
  options: { inProcess?: InProcessTransport; logger?: boolean; now?: () => number; defaultMetrics?: boolean; mountedAt?: string } = {},
): Promise<MonitoringApp> {
  const settings = monitoringSettings(config);
  const log = new Logger('monitoring');
  const quiet = options.logger === false;
  const domainLog: MonitoringLog = quiet
    ? { log: () => undefined, warn: () => undefined, error: (m: string) => log.error(m) }
    : { log: (m: string) => log.log(m), warn: (m: string) => log.warn(m), error: (m: string) => log.error(m) };
  const metrics = new MonitoringMetrics(options.defaultMetrics ?? true);
  const database = await openMonitoringDatabase(settings.database.url, settings.database.tablePrefix);
  const bus = createEventBus(config, {
    service: 'monitoring',
    inProcess: options.inProcess,
    logger: { warn: (m) => log.warn(m), error: (m) => log.error(m) },
  });

  const app = await NestFactory.create<NestExpressApplication>(
    MonitoringModule.forRoot(settings, { database, bus, metrics, now: options.now ?? Date.now, log: domainLog }),
    { logger: quiet ? false : ['log', 'warn', 'error'] },
  );
  configureHttpApp(app, { service: 'monitoring', filter: new ApiErrorFilter('monitoring'), apiToken: settings.http.apiToken, metrics: metrics.registry });
  app.useBodyParser('json', { limit: settings.http.bodyLimit });
  // Listening initializes the module first: the stored state is loaded (StateRestore) before
  // the HTTP server and the bus consumers start.
  const url = await serveHttpApp(app, { port: settings.http.port, host: settings.http.host, mountedAt: options.mountedAt });
  const server = await startBusConsumers(app, bus, {
    group: settings.bus.group,
    groups: { labels: { maxBatchSize: settings.bus.labelBatchMax } },
  });
  exportConsumerLag(metrics.registry, bus, log);
  log.log(
    `monitoring listening on ${url} (bus: ${bus.transport.kind}, database: ${settings.database.url.split(':')[0]}, window: ${settings.drift.windowSize})`,
  );

  return {
    app,
    service: app.get(DriftWatch),
    loop: entryPoints(app),
    store: app.get(MonitoringRepository),
    metrics,
    bus,
    url,
    close: async () => {
      // The consumers stop first; closing the app then writes the canary counts (CanaryCountFlush).
      await server.close();
      await app.close();
      await bus.close();
      await database.dataSource.destroy();
    },
  };
}
