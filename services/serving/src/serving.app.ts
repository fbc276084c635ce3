import { hostname } from 'node:os';
import type * as grpc from '@grpc/grpc-js';
import { NestFactory } from '@nestjs/core';
import type { Registry } from 'prom-client';
import { createEventBus, type EventBus, type InProcessTransport } from '@mlops/bus';
import { METRICS_REGISTRY, startMetricsServer, type MetricsServer } from '@mlops/metrics';
import { startBusConsumers, type BusServer } from '@mlops/runtime';
import { DeploymentService } from './deployment.service';
import { InferenceServer } from './inference-server';
import { ModelRepository } from './model-repository';
import { PredictionLog } from './prediction-log';
import type { ServingConfig } from './serving.config';
import { consoleLogger, nestLogger, silentLogger, type ServingLogger } from './serving.logger';
import { ServingModule } from './serving.module';
import { servingSettings } from './serving.settings';
import { assertLittleEndianHost } from './tensors';

export type { ServingLogger } from './serving.logger';

export interface ServingApp {
  server: grpc.Server;
  repository: ModelRepository;
  predictions: PredictionLog;
  bus: EventBus;
  /** host:port the gRPC server listens on */
  address: string;
  port: number;
  /** The Prometheus scrape's port, when SERVING_METRICS_PORT is set. */
  metricsPort?: number;
  /** Graceful: stops accepting, lets in-flight calls finish (up to the grace period), flushes events. */
  close(): Promise<void>;
}

const workerInstanceId = (config: ServingConfig): string | undefined =>
  config.SERVING_WORKER_INDEX === undefined ? config.INSTANCE_ID : `${config.INSTANCE_ID ?? hostname()}-worker-${config.SERVING_WORKER_INDEX}`;

/**
 * Starts the serving service from validated config: loads and warms the configured models,
 * the bus for prediction.logged (and deployment.requested -> hot swap or canary; model.promoted /
 * model.rolled_back -> the canary takes over or is dropped), and the KServe v2
 * gRPC server. Used by main.ts and tests.
 *
 * A Nest app for its providers and the bus transport; it serves no HTTP (it never listens).
 * The gRPC server is grpc-js itself (InferenceServer), and GET /metrics a plain HTTP server.
 */
export async function startServing(
  config: ServingConfig,
  options: { inProcess?: InProcessTransport; logger?: ServingLogger | false } = {},
): Promise<ServingApp> {
  assertLittleEndianHost();
  const log = options.logger === false ? silentLogger : (options.logger ?? consoleLogger);
  const settings = servingSettings(config);
  const bus = createEventBus(config, {
    service: 'serving',
    instanceId: workerInstanceId(config),
    inProcess: options.inProcess,
    logger: log,
  });
  // abortOnError false: a provider failing to build (no proto file) fails the start, as before, instead of aborting the process.
  const app = await NestFactory.create(ServingModule.forRoot(settings, { bus, logger: log }), { logger: nestLogger(log), abortOnError: false }).catch(
    async (error: unknown) => {
      await bus.close();
      throw error;
    },
  );
  const repository = app.get(ModelRepository);
  const predictions = app.get(PredictionLog);
  const inference = app.get(InferenceServer);
  let consumers: BusServer | undefined;
  let metricsServer: MetricsServer | undefined;

  try {
    await app.init();
    await app.get(DeploymentService).loadConfigured();
    consumers = await startBusConsumers(app, bus, { group: settings.deployments.group, groups: { '': { fromBeginning: settings.deployments.replaying } } });
    const port = await inference.listen();
    if (settings.metrics) {
      metricsServer = await startMetricsServer({ registry: app.get<Registry>(METRICS_REGISTRY), port: settings.metrics.port, host: settings.metrics.host });
    }
    inference.markReady();
    const address = `${settings.grpc.host}:${port}`;
    const worker = settings.workerIndex === undefined ? '' : `, worker ${settings.workerIndex} pid ${process.pid}`;
    log.log(`KServe v2 gRPC listening on ${address} (bus: ${bus.transport.kind}, models: ${repository.names().join(', ') || 'none'}${worker})`);

    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        const unsubscribed = consumers?.close();
        await inference.drain();
        await unsubscribed;
        await predictions.flush();
        const { dropped, failed } = predictions.stats;
        if (dropped || failed) log.warn(`prediction.logged: ${dropped} rows dropped (buffer full), ${failed} not published`);
        await repository.close();
        await app.close();
        await bus.close();
        await metricsServer?.close();
      })());
    return { server: inference.server, repository, predictions, bus, address, port, metricsPort: metricsServer?.port, close };
  } catch (error) {
    await consumers?.close().catch(() => undefined);
    inference.server.forceShutdown();
    await metricsServer?.close();
    await repository.close();
    await app.close();
    await bus.close();
    throw error;
  }
}
