import { Module, type DynamicModule } from '@nestjs/common';
import { EventBus } from '@mlops/bus';
import { createMetricsRegistry, METRICS_REGISTRY } from '@mlops/metrics';
import { HealthController, READINESS_CHECK, type ReadinessCheck } from '@mlops/http';
import { BusModule } from '@mlops/runtime';
import { V2Controller } from './http/v2.controller';
import { DeploymentService } from './deployment.service';
import { InferenceServer } from './inference-server';
import { InferenceService } from './inference.service';
import { ModelStatistics } from './model-statistics';
import { RepositoryControl } from './repository-control.service';
import { ModelRepository } from './model-repository';
import { PredictionLog } from './prediction-log';
import { ServingConsumer } from './serving.consumer';
import { SERVING_LOGGER, type ServingLogger } from './serving.logger';
import { SERVING_SETTINGS, type ServingSettings } from './serving.settings';
import { TrafficSplit } from './traffic-split';

/** What startServing makes before the module: the bus (opened from config) and where log lines go. */
export interface ServingRuntime {
  bus: EventBus;
  logger: ServingLogger;
}

/**
 * The serving service: the models (ModelRepository, routed by TrafficSplit), the inference
 * path every protocol shares (InferenceService: prediction log, ModelStatistics), the
 * deployment events (ServingConsumer -> DeploymentService), the model repository extension
 * (RepositoryControl), the gRPC server (InferenceServer) and the v2 REST routes (V2Controller,
 * served when SERVING_HTTP_PORT is set). ModelRepository and PredictionLog are made by factories from the
 * settings: their constructors stay plain, as bench/serving/handler-cost.mjs builds them by hand.
 */
@Module({})
export class ServingModule {
  static forRoot(settings: ServingSettings, runtime: ServingRuntime): DynamicModule {
    return {
      module: ServingModule,
      imports: [BusModule.forRoot(runtime.bus)],
      controllers: [ServingConsumer, V2Controller, HealthController],
      providers: [
        { provide: SERVING_SETTINGS, useValue: settings },
        { provide: SERVING_LOGGER, useValue: runtime.logger },
        { provide: METRICS_REGISTRY, useFactory: () => createMetricsRegistry({ service: 'serving' }) },
        TrafficSplit,
        {
          provide: ModelRepository,
          inject: [TrafficSplit],
          useFactory: (traffic: TrafficSplit) => new ModelRepository(settings.batching, settings.sessions, traffic),
        },
        {
          provide: PredictionLog,
          inject: [EventBus],
          useFactory: (bus: EventBus) => new PredictionLog(bus, { ...settings.predictions, logger: runtime.logger }),
        },
        DeploymentService,
        ModelStatistics,
        InferenceService,
        RepositoryControl,
        InferenceServer,
        {
          provide: READINESS_CHECK,
          inject: [InferenceServer],
          useFactory: (server: InferenceServer): ReadinessCheck => () => {
            if (!server.info.ready()) throw new Error('models not loaded yet, or shutting down');
            return {};
          },
        },
      ],
    };
  }
}
