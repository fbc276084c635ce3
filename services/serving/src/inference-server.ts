import type * as grpc from '@grpc/grpc-js';
import { Inject, Injectable } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { bindServer, serverCredentials } from '@mlops/grpc';
import { createGrpcMetrics, METRICS_REGISTRY } from '@mlops/metrics';
import { extensionHandlers } from './grpc-extensions';
import { createGrpcServer, findProtoDir, inferenceHandlers, loadInferenceService } from './grpc-server';
import { InferenceService } from './inference.service';
import { ModelRepository } from './model-repository';
import { ModelStatistics } from './model-statistics';
import { RepositoryControl } from './repository-control.service';
import { SERVING_LOGGER, type ServingLogger } from './serving.logger';
import { SERVING_SETTINGS, type ServingSettings } from './serving.settings';

export const SERVER_NAME = 'mlops-serving';
export const SERVER_VERSION = '0.1.0';

/**
 * The KServe v2 gRPC server (inference.GRPCInferenceService, with Triton's extensions) on
 * @grpc/grpc-js directly, not Nest's gRPC transport (see the README): its handlers are built
 * once, here, around the repository and the inference path, so a call goes from grpc-js to our handler with no DI
 * lookup or Nest pipeline in between. startServing binds it once the models are loaded.
 */
@Injectable()
export class InferenceServer {
  readonly server: grpc.Server;
  /** ServerReady: true once every configured model is loaded and the port is bound, false again from close. */
  private ready = false;

  constructor(
    @Inject(SERVING_SETTINGS) private readonly settings: ServingSettings,
    @Inject(SERVING_LOGGER) private readonly log: ServingLogger,
    @Inject(METRICS_REGISTRY) metrics: Registry,
    repository: ModelRepository,
    inference: InferenceService,
    statistics: ModelStatistics,
    control: RepositoryControl,
  ) {
    const { grpc } = settings;
    const service = loadInferenceService(grpc.protoDir ?? findProtoDir());
    const handlers = {
      ...inferenceHandlers(inference, repository, this.info),
      ...extensionHandlers({ inference, repository, statistics, control, batching: settings.batching }),
    };
    this.server = createGrpcServer(grpc, service, handlers, createGrpcMetrics(metrics));
  }

  /** Name, version and readiness, as ServerMetadata/ServerReady (gRPC and REST) report them. */
  readonly info = { name: SERVER_NAME, version: SERVER_VERSION, ready: () => this.ready };

  /** Binds host:port (TLS and the bearer token as configured); resolves with the bound port. */
  listen(): Promise<number> {
    const { host, port, security } = this.settings.grpc;
    return bindServer(this.server, host, port, serverCredentials(security));
  }

  /** From now on ServerReady answers true. */
  markReady(): void {
    this.ready = true;
  }

  /** Graceful: not ready, stops accepting, lets in-flight calls finish for up to the grace period, then cancels them. */
  drain(): Promise<void> {
    this.ready = false;
    return new Promise<void>((done) => {
      const force = setTimeout(() => {
        this.log.warn('grace period over: cancelling in-flight calls');
        this.server.forceShutdown();
        done();
      }, this.settings.grpc.shutdownGraceS * 1000);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        done();
      });
    });
  }
}
