import { z } from 'zod';

const brokerList = z
  .string({ error: 'required when BUS=kafka (comma-separated host:port list)' })
  .transform((value) => value.split(',').map((b) => b.trim()).filter(Boolean))
  .pipe(
    z
      .array(z.string().regex(/^[^:\s]+:\d{1,5}$/, 'each broker must be host:port'))
      .min(1, 'at least one broker is required'),
  );

export const port = (fallback: number) =>
  z.coerce.number().int().min(0, 'expected a port number').max(65535, 'expected a port number').default(fallback);

const optionalSecret = z.string().min(1).optional();

const bytes = (fallback: number) => z.coerce.number().int().positive('expected a positive number of bytes').default(fallback);

/** Size limits at the edge of every consumer and producer (both adapters). */
const busLimits = {
  /**
   * Largest message (value + key + headers) consumed or published, in bytes. A consumed one
   * over it is dead-lettered unparsed; a handler output over it dead-letters its input.
   * Keep it below the broker's `message.max.bytes` (1048588 by default).
   */
  BUS_MAX_MESSAGE_BYTES: bytes(1_000_000),
  /** Largest key of a consumed message, in bytes; a longer one is dead-lettered unparsed. */
  BUS_MAX_KEY_BYTES: bytes(16_384),
};

/**
 * Bus settings shared by every service. Kafka settings are required only when BUS=kafka,
 * so the embedded mode starts with an empty environment.
 */
export const busEnvSchema = z
  .discriminatedUnion('BUS', [
  z.object({
    /** `in-process` (embedded: every service in one process) or `kafka`; default kafka when KAFKA_BROKERS is set, else in-process. */
    BUS: z.literal('in-process'),
  }),
  z.object({
    BUS: z.literal('kafka'),
    /** Comma-separated `host:port` of the Kafka brokers, e.g. `kafka-1:9092,kafka-2:9092`. */
    KAFKA_BROKERS: brokerList,
    /** The Kafka client id (default: the service's name). */
    KAFKA_CLIENT_ID: z.string().min(1).optional(),
    /** TLS to the brokers. */
    KAFKA_SSL: z.stringbool().default(false),
    /** SASL authentication: plain, scram-sha-256 or scram-sha-512; needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD. */
    KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
    KAFKA_SASL_USERNAME: optionalSecret,
    KAFKA_SASL_PASSWORD: optionalSecret,
  }).superRefine((env, ctx) => {
    // Half a SASL configuration would silently connect without authentication.
    const credentials = (['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const).filter((k) => env[k] !== undefined);
    if (env.KAFKA_SASL_MECHANISM) {
      for (const missing of (['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const).filter((k) => env[k] === undefined)) {
        ctx.addIssue({ code: 'custom', path: [missing], message: `required when KAFKA_SASL_MECHANISM is set` });
      }
    } else if (credentials.length) {
      ctx.addIssue({ code: 'custom', path: ['KAFKA_SASL_MECHANISM'], message: `required when ${credentials.join(' or ')} is set (plain, scram-sha-256 or scram-sha-512)` });
    }
  }),
]).and(z.object(busLimits));

export type BusEnv = z.output<typeof busEnvSchema>;

/** Reads BUS with its default before the discriminated union sees it. */
export function withBusDefault(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, BUS: env.BUS ?? (env.KAFKA_BROKERS ? 'kafka' : 'in-process') };
}

export const databaseEnvSchema = z.object({
  /** `postgres://user:pass@host:port/db` (distributed) or `sqlite:<file>` (embedded). */
  DATABASE_URL: z
    .string()
    .regex(/^(postgres(ql)?:\/\/|sqlite:)/, 'expected postgres://user:pass@host:port/db or sqlite:<file> or sqlite::memory:')
    .default('sqlite:.mlops/mlops.db'),
});
