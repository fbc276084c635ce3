export * from './bus/bus-handler.decorators';
export * from './bus/bus.module';
export * from './bus/bus.server';
export * from './run-service';
export * from './bus/consumer-lag';
