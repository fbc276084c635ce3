import { z } from 'zod';
import { distributedModeProblems, envProblems, envVariables, importServiceConfig, readOutsideSchema, serviceNames } from './env-schema';

describe('envVariables (zod env schema introspection)', () => {
  const schema = z
    .object({ A_PORT: z.coerce.number().default(1), A_NAME: z.string(), A_OPT: z.string().optional() })
    .and(
      z.discriminatedUnion('MODE', [
        z.object({ MODE: z.literal('x') }),
        z.object({ MODE: z.literal('y'), Y_URL: z.string(), Y_PREFIX: z.string().default('p') }),
      ]),
    );

  it('knows the variables of every variant and requires only the chosen variant\'s', () => {
    const y = envVariables(schema, { MODE: 'y' });
    expect([...y.known].sort()).toEqual(['A_NAME', 'A_OPT', 'A_PORT', 'MODE', 'Y_PREFIX', 'Y_URL']);
    expect([...y.required].sort()).toEqual(['A_NAME', 'MODE', 'Y_URL']);
    expect([...envVariables(schema, { MODE: 'x' }).required].sort()).toEqual(['A_NAME', 'MODE']);
  });

  it('rejects a schema shape it cannot read instead of passing it', () => {
    expect(() => envVariables(z.string() as unknown as z.ZodType, {})).toThrow(/unsupported zod node 'string'/);
  });
});

describe('envProblems on the real service schemas', () => {
  it('requires REDIS_URL only when the feature store runs with ONLINE_STORE=redis', async () => {
    const featureStore = await importServiceConfig('feature-store');
    const base = { BUS: 'kafka', KAFKA_BROKERS: 'kafka:9092', DATABASE_URL: 'postgres://u:p@db:5432/x' };
    expect(envProblems(featureStore, { ...base, ONLINE_STORE: 'memory' })).toEqual([]);
    expect(envProblems(featureStore, { ...base, ONLINE_STORE: 'redis' })).toContain('REDIS_URL: required but not set');
  });

  it('flags DATABASE_URL for a service that owns no database', async () => {
    const serving = await importServiceConfig('serving');
    expect(envProblems(serving, { BUS: 'kafka', KAFKA_BROKERS: 'k:9092', DATABASE_URL: 'postgres://u:p@db/x' })).toEqual([
      "DATABASE_URL: not read by the service's config schema",
    ]);
  });

  it('flags embedded-mode defaults (sqlite, in-memory online store, .mlops artifacts) in a distributed deployment', async () => {
    const featureStore = await importServiceConfig('feature-store');
    expect(distributedModeProblems(featureStore, { BUS: 'kafka', KAFKA_BROKERS: 'k:9092' }, '/artifacts')).toEqual([
      'DATABASE_URL: expected postgres://..., got the sqlite default',
      'ONLINE_STORE: expected redis, got the memory default',
      'FEATURE_STORE_ARTIFACT_ROOT: expected a path under /artifacts/, got the .mlops default',
    ]);
  });

  it('allows only the OpenTelemetry SDK\'s and Node\'s own variables outside the schemas', () => {
    expect(readOutsideSchema('OTEL_EXPORTER_OTLP_ENDPOINT')).toBe(true);
    expect(readOutsideSchema('NODE_ENV')).toBe(true);
    expect(readOutsideSchema('KAFKA_BROKER')).toBe(false);
  });

  it.each(serviceNames())('%s has a config module with one env schema and one loader', async (service) => {
    const config = await importServiceConfig(service);
    expect(envVariables(config.schema, { BUS: 'kafka' }).required.has('KAFKA_BROKERS')).toBe(true);
  });
});
