import { hostname } from 'node:os';
import type { BusEnv } from '@mlops/config';
import { EventBus } from './event-bus';
import type { Logger } from './delivery-policy';
import { DEFAULT_MESSAGE_LIMITS, type MessageLimits } from './message-limits';
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

type LimitKeys = 'BUS_MAX_MESSAGE_BYTES' | 'BUS_MAX_KEY_BYTES';
/** Validated bus config; the limits may be left out (tests build it by hand), meaning the defaults. */
export type BusFactoryEnv = BusEnv extends infer E ? (E extends unknown ? Omit<E, LimitKeys> & Partial<Pick<BusEnv, LimitKeys>> : never) : never;

/** The size limits of the bus config. */
export function messageLimitsOf(env: BusFactoryEnv): MessageLimits {
  return {
    maxMessageBytes: env.BUS_MAX_MESSAGE_BYTES ?? DEFAULT_MESSAGE_LIMITS.maxMessageBytes,
    maxKeyBytes: env.BUS_MAX_KEY_BYTES ?? DEFAULT_MESSAGE_LIMITS.maxKeyBytes,
  };
}

/** Picks the bus adapter from validated config. */
export function createTransport(env: BusFactoryEnv, options: BusFactoryOptions): MessageTransport {
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
    limits: messageLimitsOf(env),
  });
}

export function createEventBus(env: BusFactoryEnv, options: BusFactoryOptions): EventBus {
  return new EventBus(createTransport(env, options), { logger: options.logger, limits: messageLimitsOf(env) });
}
