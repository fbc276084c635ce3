import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';
import { createEventBus, type EventBus, type InProcessTransport, type Subscription } from '@mlops/bus';
import { createEvent } from '@mlops/contracts';
import { bind, createGrpcServer, findProtoDir, inferenceHandlers, loadInferenceService } from './grpc-server';
import { ModelRepository } from './model-repository';
import { PredictionLog } from './prediction-log';
import type { ServingConfig } from './serving.config';
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
  /** Graceful: stops accepting, lets in-flight calls finish (up to the grace period), flushes events. */
  close(): Promise<void>;
}

const consoleLogger: ServingLogger = {
  log: (m) => console.log(`serving: ${m}`),
  warn: (m) => console.warn(`serving: ${m}`),
  error: (m) => console.error(`serving: ${m}`),
};
const silent: ServingLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };

/** A file path from a deployment's artifactUri (a plain path or file://). */
export function artifactPath(uri: string): string {
  if (uri.startsWith('file://')) return fileURLToPath(uri);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) throw new Error(`artifactUri ${uri}: only file paths and file:// URIs are supported`);
  return resolve(uri);
}

/**
 * Wires the serving service from validated config: loads and warms the configured models,
 * the bus for prediction.logged (and deployment.requested -> hot swap), and the KServe v2
 * gRPC server. Used by main.ts and tests.
 */
export async function startServing(
  config: ServingConfig,
  options: { inProcess?: InProcessTransport; logger?: ServingLogger | false } = {},
): Promise<ServingApp> {
  assertLittleEndianHost();
  const log = options.logger === false ? silent : (options.logger ?? consoleLogger);
  const repository = new ModelRepository({ maxBatch: config.SERVING_MAX_BATCH, delayUs: config.SERVING_BATCH_DELAY_US });
  const bus = createEventBus(config, {
    service: 'serving',
    instanceId: config.INSTANCE_ID,
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
  const server = createGrpcServer(
    config.SERVING_MAX_MESSAGE_BYTES,
    service,
    inferenceHandlers(repository, predictions, { name: SERVER_NAME, version: SERVER_VERSION, ready: () => ready }),
  );

  let subscription: Subscription | undefined;
  try {
    for (const m of config.SERVING_MODELS) {
      const model = await repository.load(m.name, m.version, m.path, { warm: true });
      log.log(`loaded model '${m.name}' version ${m.version} from ${m.path} (batching: ${model.batchable ? 'yes' : 'no, static batch dimension'})`);
    }
    subscription = await bus.subscribeEvents({
      group: config.SERVING_GROUP,
      types: ['deployment.requested'],
      fromBeginning: false,
      handle: async (event, ctx) => {
        const { model, version, artifactUri, strategy, canaryShare } = event.data;
        let status: 'serving' | 'failed' = 'serving';
        let error: string | undefined;
        try {
          await repository.load(model, version, artifactPath(artifactUri), { warm: true });
          log.log(`deployed model '${model}' version ${version} from ${artifactUri}`);
        } catch (e) {
          status = 'failed';
          error = (e as Error).message;
          log.error(`deployment of '${model}' version ${version} failed: ${error}`);
        }
        ctx.publish(
          createEvent('deployment.completed', {
            source: 'serving',
            subject: model,
            correlationId: event.correlationId,
            // Traffic split (canary) is a later slice: a loaded version serves requests that name
            // it, and requests without a version go to the latest.
            data: { model, version, status, trafficShare: status === 'serving' ? (strategy === 'full' ? 1 : canaryShare) : 0, error },
          }),
        );
      },
    });
    const port = await bind(server, config.SERVING_GRPC_HOST, config.SERVING_GRPC_PORT);
    ready = true;
    const address = `${config.SERVING_GRPC_HOST}:${port}`;
    log.log(`KServe v2 gRPC listening on ${address} (bus: ${bus.transport.kind}, models: ${repository.names().join(', ') || 'none'})`);

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
      })());
    return { server, repository, predictions, bus, address, port, close };
  } catch (error) {
    await subscription?.stop().catch(() => undefined);
    server.forceShutdown();
    await repository.close();
    await bus.close();
    throw error;
  }
}
