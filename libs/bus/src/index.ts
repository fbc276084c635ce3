export * from './bus.factory';
export * from './delivery-policy';
export * from './event-bus';
export * from './in-process/in-process.transport';
export * from './kafka/kafka.transport';
export * from './transport';
