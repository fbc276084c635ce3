import { Global, Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { EventBus } from '@mlops/bus';
import { BusServer, type BusServerOptions } from './bus.server';

/** Provides the service's EventBus (made from config before the app) for injection. */
@Global()
@Module({})
export class BusModule {
  static forRoot(bus: EventBus): DynamicModule {
    return { module: BusModule, providers: [{ provide: EventBus, useValue: bus }], exports: [EventBus] };
  }
}

/**
 * Connects the app's `@OnEvent` handlers to the bus (a hybrid app: HTTP or gRPC plus the
 * bus transport) and starts consuming. Stop it (`server.close()`) before closing what the
 * handlers use: Nest runs destroy hooks before it closes microservices.
 */
export async function startBusConsumers(app: INestApplication, bus: EventBus, options: BusServerOptions): Promise<BusServer> {
  const server = new BusServer(bus, options);
  app.connectMicroservice({ strategy: server });
  await app.startAllMicroservices();
  return server;
}
