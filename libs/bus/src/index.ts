export * from './bus.factory';
export * from './delivery-policy';
export * from './message-limits';
export * from './event-bus';
export * from './in-process/in-process.transport';
export * from './kafka/kafka.transport';
export * from './transport';
export * from './utf8-slab';
// The Kafka ops kit (tests, test support, benchmarks): kafkajs stays behind these.
export * from './kafka/kafka-admin-kit';
export * from './kafka/kafka-groups';
export type { KafkaKitOptions } from './kafka/kafka-kit-client';
export * from './kafka/kafka-observer';
export * from './kafka/kafka-raw-producer';
