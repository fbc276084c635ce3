import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';
import { createEventBus, type EventBus, type InProcessTransport, type Subscription } from '@mlops/bus';
import { createEvent, type AnyEvent, type PayloadOf } from '@mlops/contracts';
import { bindServer, serverCredentials } from '@mlops/grpc';
import { createGrpcMetrics, createMetricsRegistry, startMetricsServer, type MetricsServer } from '@mlops/metrics';
import { createGrpcServer, findProtoDir, inferenceHandlers, loadInferenceService } from './grpc-server';
import { ModelRepository } from './model-repository';
import { PredictionLog } from './prediction-log';
import { deploymentGroup, replaysDeployments, type ServingConfig } from './serving.config';
import { assertLittleEndianHost } from './tensors';

export const SERVER_NAME = 'mlops-serving';
export const SERVER_VERSION = '0.1.0';

export interface ServingLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

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

const consoleLogger: ServingLogger = {
  log: (m) => console.log(`serving: ${m}`),
  warn: (m) => console.warn(`serving: ${m}`),
  error: (m) => console.error(`serving: ${m}`),
};
const silent: ServingLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };

const workerInstanceId = (config: ServingConfig): string | undefined =>
  config.SERVING_WORKER_INDEX === undefined ? config.INSTANCE_ID : `${config.INSTANCE_ID ?? hostname()}-worker-${config.SERVING_WORKER_INDEX}`;

/** A file path from a deployment's artifactUri (a plain path or file://). */
export function artifactPath(uri: string): string {
  if (uri.startsWith('file://')) return fileURLToPath(uri);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) throw new Error(`artifactUri ${uri}: only file paths and file:// URIs are supported`);
  return resolve(uri);
}

/**
 * Wires the serving service from validated config: loads and warms the configured models,
 * the bus for prediction.logged (and deployment.requested -> hot swap or canary; model.promoted /
 * model.rolled_back -> the canary takes over or is dropped), and the KServe v2
 * gRPC server. Used by main.ts and tests.
 */
export async function startServing(
  config: ServingConfig,
  options: { inProcess?: InProcessTransport; logger?: ServingLogger | false } = {},
): Promise<ServingApp> {
  assertLittleEndianHost();
  const log = options.logger === false ? silent : (options.logger ?? consoleLogger);
  const repository = new ModelRepository(
    { maxBatch: config.SERVING_MAX_BATCH, delayUs: config.SERVING_BATCH_DELAY_US },
    { intraOpThreads: config.SERVING_INTRA_OP_THREADS },
  );
  const bus = createEventBus(config, {
    service: 'serving',
    instanceId: workerInstanceId(config),
    inProcess: options.inProcess,
    logger: log,
  });
  const predictions = new PredictionLog(bus, {
    sampleRate: config.SERVING_LOG_SAMPLE_RATE,
    capacity: config.SERVING_LOG_BUFFER,
    logger: log,
  });

  let ready = false;
  const service = loadInferenceService(config.SERVING_PROTO_DIR ?? findProtoDir());
  const metrics = createMetricsRegistry({ service: 'serving' });
  const server = createGrpcServer(
    config,
    service,
    inferenceHandlers(repository, predictions, { name: SERVER_NAME, version: SERVER_VERSION, ready: () => ready }),
    createGrpcMetrics(metrics),
  );
  let metricsServer: MetricsServer | undefined;

  /** model.promoted: the canary becomes stable and the old stable is drained; a loaded non-canary version takes all traffic. */
  const onPromoted = ({ model, version }: PayloadOf<'model.promoted'>) => {
    const old = repository.promoteCanary(model, version);
    if (old !== undefined) return log.log(`model '${model}' version ${version} promoted: all traffic; version ${old} drained and unloaded`);
    if (!repository.versions(model).includes(version)) return log.warn(`model '${model}' version ${version} promoted but not loaded here`);
    if (repository.route(model)?.stable !== version) {
      repository.setStable(model, version);
      log.log(`model '${model}' version ${version} promoted: all traffic`);
    }
  };
  /** model.rolled_back: a canary is dropped (stable keeps 100%); a rolled-back stable gives way to the restored version. */
  const onRolledBack = ({ model, version, restoredVersion, reason }: PayloadOf<'model.rolled_back'>) => {
    if (repository.dropCanary(model, version)) return log.log(`model '${model}' canary version ${version} rolled back (${reason}): dropped`);
    const route = repository.route(model);
    if (route?.stable === version && restoredVersion !== undefined && repository.versions(model).includes(restoredVersion)) {
      repository.setStable(model, restoredVersion);
      log.log(`model '${model}' version ${version} rolled back (${reason}): version ${restoredVersion} takes all traffic`);
    }
  };

  let subscription: Subscription | undefined;
  const replaying = replaysDeployments(config);
  const startedAt = Date.now();
  try {
    for (const m of config.SERVING_MODELS) {
      const model = await repository.load(m.name, m.version, m.path, { warm: true });
      log.log(`loaded model '${m.name}' version ${m.version} from ${m.path} (batching: ${model.batchable ? 'yes' : 'no, static batch dimension'})`);
    }
    subscription = await bus.subscribeEvents({
      group: deploymentGroup(config),
      types: ['deployment.requested', 'model.promoted', 'model.rolled_back'],
      fromBeginning: replaying,
      handle: async (event, ctx) => {
        const e = event as AnyEvent;
        if (e.type === 'model.promoted') return onPromoted(e.data);
        if (e.type === 'model.rolled_back') return onRolledBack(e.data);
        if (e.type !== 'deployment.requested') return;
        const { model, version, artifactUri, strategy, canaryShare } = e.data;
        let status: 'serving' | 'failed' = 'serving';
        let trafficShare = 0;
        let error: string | undefined;
        try {
          await repository.load(model, version, artifactPath(artifactUri), { warm: true, activate: false });
          const route = repository.route(model);
          const stableLoaded = route !== undefined && repository.versions(model).includes(route.stable);
          if (strategy === 'full' || !stableLoaded || route.stable === version) {
            // The first version of a model (or a full rollout) takes all traffic at once.
            repository.setStable(model, version);
            trafficShare = 1;
            log.log(`deployed model '${model}' version ${version} from ${artifactUri}: all traffic`);
          } else {
            repository.setCanary(model, version, canaryShare);
            // A canary this one replaces is dropped.
            if (route.canary && route.canary.version !== version) repository.unload(model, route.canary.version);
            trafficShare = canaryShare;
            log.log(`deployed model '${model}' version ${version} from ${artifactUri}: canary ${canaryShare} beside stable version ${route.stable}`);
          }
        } catch (err) {
          status = 'failed';
          error = (err as Error).message;
          log.error(`deployment of '${model}' version ${version} failed: ${error}`);
        }
        // Of several workers, worker 0 reports for all; a worker that failed reports that too.
        // A restarted worker replaying history reports nothing older than itself.
        const replayed = replaying && Date.parse(e.time) < startedAt;
        if (!replayed && (status === 'failed' || !config.SERVING_WORKER_INDEX)) {
          ctx.publish(
            createEvent('deployment.completed', {
              source: 'serving',
              subject: model,
              correlationId: e.correlationId,
              data: { model, version, status, trafficShare, error },
            }),
          );
        }
      },
    });
    const port = await bindServer(server, config.SERVING_GRPC_HOST, config.SERVING_GRPC_PORT, serverCredentials(config));
    if (config.SERVING_METRICS_PORT !== undefined) {
      metricsServer = await startMetricsServer({ registry: metrics, port: config.SERVING_METRICS_PORT, host: config.SERVING_METRICS_HOST });
    }
    ready = true;
    const address = `${config.SERVING_GRPC_HOST}:${port}`;
    const worker = config.SERVING_WORKER_INDEX === undefined ? '' : `, worker ${config.SERVING_WORKER_INDEX} pid ${process.pid}`;
    log.log(`KServe v2 gRPC listening on ${address} (bus: ${bus.transport.kind}, models: ${repository.names().join(', ') || 'none'}${worker})`);

    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        ready = false;
        const unsubscribed = subscription?.stop();
        await new Promise<void>((done) => {
          const force = setTimeout(() => {
            log.warn('grace period over: cancelling in-flight calls');
            server.forceShutdown();
            done();
          }, config.SERVING_SHUTDOWN_GRACE_S * 1000);
          server.tryShutdown(() => {
            clearTimeout(force);
            done();
          });
        });
        await unsubscribed;
        await predictions.flush();
        const { dropped, failed } = predictions.stats;
        if (dropped || failed) log.warn(`prediction.logged: ${dropped} rows dropped (buffer full), ${failed} not published`);
        await repository.close();
        await bus.close();
        await metricsServer?.close();
      })());
    return { server, repository, predictions, bus, address, port, metricsPort: metricsServer?.port, close };
  } catch (error) {
    await subscription?.stop().catch(() => undefined);
    server.forceShutdown();
    await metricsServer?.close();
    await repository.close();
    await bus.close();
    throw error;
  }
}
