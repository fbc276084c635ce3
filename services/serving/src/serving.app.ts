import type { RequestListener } from 'node:http';
import { hostname } from 'node:os';
import type * as grpc from '@grpc/grpc-js';
import { NestFactory } from '@nestjs/core';
import type { Registry } from 'prom-client';
import { createEventBus, type EventBus, type InProcessTransport } from '@mlops/bus';
import { METRICS_REGISTRY, metricsRequestListener, startMetricsServer, type MetricsServer } from '@mlops/metrics';
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
  /** With `mountedAt`: GET /metrics and GET /health/live, for a front door to mount (no server of its own). */
  http?: RequestListener;
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
  options: {
    inProcess?: InProcessTransport;
    logger?: ServingLogger | false;
    /**
     * Serve the metrics and health routes through a front door at this URL instead of a port of
     * their own: no metrics server is started (SERVING_METRICS_PORT is ignored) and `http` is
     * the request listener to mount. gRPC listens as always.
     */
    mountedAt?: string;
  } = {},
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
    const registry = app.get<Registry>(METRICS_REGISTRY);
    if (settings.metrics && !options.mountedAt) {
      metricsServer = await startMetricsServer({ registry, port: settings.metrics.port, host: settings.metrics.host });
    }
    inference.markReady();
    const address = `${settings.grpc.host}:${port}`;
    const worker = settings.workerIndex === undefined ? '' : `, worker ${settings.workerIndex} pid ${process.pid}`;
    const metricsAt = options.mountedAt ? `, metrics at ${options.mountedAt}/metrics` : '';
    log.log(`KServe v2 gRPC listening on ${address} (bus: ${bus.transport.kind}, models: ${repository.names().join(', ') || 'none'}${worker}${metricsAt})`);

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
    const http = options.mountedAt ? metricsRequestListener(registry) : undefined;
    return { server: inference.server, repository, predictions, bus, address, port, metricsPort: metricsServer?.port, http, close };
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
