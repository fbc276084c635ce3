import { hostname } from 'node:os';
import type { BusEnv } from '@mlops/config';
import { EventBus } from './event-bus';
import type { Logger } from './delivery-policy';
import { InProcessTransport } from './in-process/in-process.transport';
import { KafkaTransport } from './kafka/kafka.transport';
import type { MessageTransport } from './transport';

export interface BusFactoryOptions {
  service: string;
  /** Exactly-once consume -> produce on Kafka (a transactional id per service instance). */
  transactional?: boolean;
  instanceId?: string;
  logger?: Logger & { error(message: string): void };
  /** The embedded mode passes one shared in-process transport to every service. */
  inProcess?: InProcessTransport;
}

/** Picks the bus adapter from validated config. */
export function createTransport(env: BusEnv, options: BusFactoryOptions): MessageTransport {
  if (env.BUS === 'in-process') return options.inProcess ?? new InProcessTransport();
  const sasl =
    env.KAFKA_SASL_MECHANISM && env.KAFKA_SASL_USERNAME && env.KAFKA_SASL_PASSWORD
      ? { mechanism: env.KAFKA_SASL_MECHANISM, username: env.KAFKA_SASL_USERNAME, password: env.KAFKA_SASL_PASSWORD }
      : undefined;
  const instance = options.instanceId ?? hostname();
  return new KafkaTransport({
    brokers: env.KAFKA_BROKERS,
    clientId: env.KAFKA_CLIENT_ID ?? options.service,
    ssl: env.KAFKA_SSL,
    sasl,
    transactionalId: options.transactional ? `${options.service}.${instance}` : undefined,
    logger: options.logger,
  });
}

export function createEventBus(env: BusEnv, options: BusFactoryOptions): EventBus {
  return new EventBus(createTransport(env, options), { logger: options.logger });
}
