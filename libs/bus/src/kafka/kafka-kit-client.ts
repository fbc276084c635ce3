import { Kafka, logLevel } from 'kafkajs';

/**
 * Where and how the Kafka ops kit (kafka-admin-kit, kafka-groups, kafka-raw-producer,
 * kafka-observer) connects. The kit is for tests, test support, benchmarks and operator
 * scripts that must act on Kafka itself (topics, offsets, groups, raw records) rather than
 * through the EventBus; services use the EventBus.
 */
export interface KafkaKitOptions {
  brokers: string[];
  /** Default `mlops-kafka-kit`. */
  clientId?: string;
  /**
   * kafkajs's own log lines from this level up go to the console. Default `warn`, as the bus
   * adapter; tests whose faults make kafkajs complain on purpose pass `nothing`.
   */
  logLevel?: 'nothing' | 'error' | 'warn';
  /**
   * How often and how long each admin and producer request is retried (default kafkajs's: 5
   * retries from 300 ms). The observer keeps the bus adapter's own.
   */
  retry?: { retries?: number; initialRetryTime?: number; maxRetryTime?: number };
}

const LOG_LEVELS = { nothing: logLevel.NOTHING, error: logLevel.ERROR, warn: logLevel.WARN } as const;

/** The kafkajs client the kit's modules share (not exported from @mlops/bus). */
export function kitKafka(options: KafkaKitOptions): Kafka {
  return new Kafka({
    clientId: options.clientId ?? 'mlops-kafka-kit',
    brokers: options.brokers,
    logLevel: LOG_LEVELS[options.logLevel ?? 'warn'],
    retry: options.retry,
  });
}

/** A KafkaTransport logger that keeps the lines `options.logLevel` asks for (not exported from @mlops/bus). */
export function kitLogger(options: KafkaKitOptions): { warn(message: string): void; error(message: string): void } {
  const level = options.logLevel ?? 'warn';
  const drop = () => undefined;
  return {
    warn: level === 'warn' ? (message) => console.warn(message) : drop,
    error: level === 'nothing' ? drop : (message) => console.error(message),
  };
}
