import type { Server as HttpServer, RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import type * as grpc from '@grpc/grpc-js';
import { NestFactory } from '@nestjs/core';
import type { Registry } from 'prom-client';
import { createEventBus, type EventBus, type InProcessTransport } from '@mlops/bus';
import { METRICS_REGISTRY } from '@mlops/metrics';
import { exportConsumerLag, startBusConsumers, type BusServer } from '@mlops/runtime';
import { DeploymentService } from './deployment.service';
import { InferenceServer } from './inference-server';
import { ModelRepository } from './model-repository';
import { PredictionLog } from './prediction-log';
import type { ServingConfig } from './serving.config';
import { consoleLogger, nestLogger, silentLogger, type ServingLogger } from './serving.logger';
import { ServingModule } from './serving.module';
import { servingSettings } from './serving.settings';
import { assertLittleEndianHost } from './tensors';
import { configureV2App } from './http/configure-v2-app';

export type { ServingLogger } from './serving.logger';

export interface ServingApp {
  server: grpc.Server;
  repository: ModelRepository;
  predictions: PredictionLog;
  bus: EventBus;
  /** host:port the gRPC server listens on */
  address: string;
  port: number;
  /** The HTTP server's port (v2 REST, /metrics, /health/live), when SERVING_HTTP_PORT is set. */
  httpPort?: number;
  /** The same as httpPort (its name from when the HTTP server only had /metrics). */
  metricsPort?: number;
  /** With `mountedAt`: the HTTP routes (v2 REST, /metrics, /health), for a front door to mount (no server of its own). */
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
 * A Nest app for its providers, the bus transport and, when SERVING_HTTP_PORT is set, its HTTP
 * server: the v2 REST protocol, GET /metrics and GET /health/live|ready. The gRPC server is
 * grpc-js itself (InferenceServer).
 */
export async function startServing(
  config: ServingConfig,
  options: {
    inProcess?: InProcessTransport;
    logger?: ServingLogger | false;
    /**
     * Serve the HTTP routes (v2 REST, metrics, health) through a front door at this URL instead
     * of a port of their own: nothing listens on SERVING_HTTP_PORT and `http` is the request
     * listener to mount. gRPC listens as always.
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
  // bodyParser off: the infer route reads its body itself (JSON then binary tensor data, any content type).
  const app = await NestFactory.create(ServingModule.forRoot(settings, { bus, logger: log }), { logger: nestLogger(log), abortOnError: false, bodyParser: false }).catch(
    async (error: unknown) => {
      await bus.close();
      throw error;
    },
  );
  const repository = app.get(ModelRepository);
  const predictions = app.get(PredictionLog);
  const inference = app.get(InferenceServer);
  let consumers: BusServer | undefined;
  let httpServer: HttpServer | undefined;

  try {
    if (settings.http || options.mountedAt) {
      configureV2App(app, { registry: app.get<Registry>(METRICS_REGISTRY), apiToken: settings.grpc.security.API_TOKEN, logger: log });
    }
    await app.init();
    await app.get(DeploymentService).loadConfigured();
    consumers = await startBusConsumers(app, bus, { group: settings.deployments.group, groups: { '': { fromBeginning: settings.deployments.replaying } } });
    exportConsumerLag(app.get<Registry>(METRICS_REGISTRY), bus, log);
    const port = await inference.listen();
    let httpPort: number | undefined;
    if (settings.http && !options.mountedAt) {
      await app.listen(settings.http.port, settings.http.host);
      httpServer = app.getHttpServer() as HttpServer;
      httpPort = (httpServer.address() as AddressInfo).port;
    }
    inference.markReady();
    const address = `${settings.grpc.host}:${port}`;
    const worker = settings.workerIndex === undefined ? '' : `, worker ${settings.workerIndex} pid ${process.pid}`;
    log.log(`KServe v2 gRPC listening on ${address} (bus: ${bus.transport.kind}, models: ${repository.names().join(', ') || 'none'}${worker})`);
    if (options.mountedAt) log.log(`KServe v2 REST, /metrics and /health at ${options.mountedAt} (mounted by the front door)`);
    else if (settings.http) log.log(`KServe v2 REST, /metrics and /health on http://${settings.http.host}:${httpPort}`);

    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        const unsubscribed = consumers?.close();
        const httpDrained = httpServer && drainHttp(httpServer, settings.grpc.shutdownGraceS);
        await inference.drain();
        await httpDrained;
        await unsubscribed;
        await predictions.flush();
        const { dropped, failed } = predictions.stats;
        if (dropped || failed) log.warn(`prediction.logged: ${dropped} rows dropped (buffer full), ${failed} not published`);
        await repository.close();
        await app.close();
        await bus.close();
      })());
    const http = options.mountedAt ? (app.getHttpAdapter().getInstance() as RequestListener) : undefined;
    return { server: inference.server, repository, predictions, bus, address, port, httpPort, metricsPort: httpPort, http, close };
  } catch (error) {
    await consumers?.close().catch(() => undefined);
    inference.server.forceShutdown();
    await repository.close();
    await app.close();
    await bus.close();
    throw error;
  }
}

/** Stops accepting HTTP requests and waits for those in flight, up to the grace period (then closes what is left). */
function drainHttp(server: HttpServer, graceS: number): Promise<void> {
  return new Promise<void>((done) => {
    const force = setTimeout(() => server.closeAllConnections(), graceS * 1000);
    server.close(() => {
      clearTimeout(force);
      done();
    });
    server.closeIdleConnections();
  });
}
