import { z } from 'zod';
import { busEnvSchema, ConfigError, databaseEnvSchema, loadConfig, port, withBusDefault } from './index';

/** Composed the way services compose their schemas. */
const serviceSchema = z
  .object({ DEMO_PORT: port(3000), DEMO_NAME: z.string().min(1).default('demo') })
  .and(databaseEnvSchema)
  .and(busEnvSchema);

const load = (env: NodeJS.ProcessEnv) => loadConfig('demo', serviceSchema, withBusDefault(env));

function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, but the configuration loaded');
}

const variables = (error: ConfigError) => error.problems.map((p) => p.variable);

describe('withBusDefault', () => {
  it('chooses in-process for an empty environment', () => {
    expect(withBusDefault({}).BUS).toBe('in-process');
  });

  it('chooses kafka when brokers are configured', () => {
    expect(withBusDefault({ KAFKA_BROKERS: 'k:9092' }).BUS).toBe('kafka');
  });

  it('keeps an explicit BUS and every other variable, without mutating its input', () => {
    const env = { BUS: 'in-process', KAFKA_BROKERS: 'k:9092', OTHER: 'x' };
    expect(withBusDefault(env)).toEqual(env);
    const empty: NodeJS.ProcessEnv = {};
    withBusDefault(empty);
    expect(empty).toEqual({});
  });
});

describe('loadConfig', () => {
  it('starts with an empty environment: in-process bus, sqlite database, defaults', () => {
    expect(load({})).toEqual({
      BUS: 'in-process',
      BUS_MAX_MESSAGE_BYTES: 1_000_000,
      BUS_MAX_KEY_BYTES: 16_384,
      DATABASE_URL: 'sqlite:.mlops/mlops.db',
      DEMO_PORT: 3000,
      DEMO_NAME: 'demo',
    });
  });

  it('parses a full kafka configuration', () => {
    const config = load({
      KAFKA_BROKERS: ' a:9092, b.example.com:19092 ,',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD: 'p',
      DATABASE_URL: 'postgres://u:p@db:5432/mlops',
      DEMO_PORT: '8080',
    });
    expect(config).toMatchObject({
      BUS: 'kafka',
      KAFKA_BROKERS: ['a:9092', 'b.example.com:19092'],
      KAFKA_SSL: false,
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      DATABASE_URL: 'postgres://u:p@db:5432/mlops',
      DEMO_PORT: 8080,
    });
  });

  it('names the missing half of a SASL configuration instead of connecting unauthenticated', () => {
    const noPassword = configErrorOf(() => load({ KAFKA_BROKERS: 'a:9092', KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u' }));
    expect(variables(noPassword)).toEqual(['KAFKA_SASL_PASSWORD']);
    expect(noPassword.message).toContain('KAFKA_SASL_PASSWORD: required when KAFKA_SASL_MECHANISM is set');
    const noMechanism = configErrorOf(() => load({ KAFKA_BROKERS: 'a:9092', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }));
    expect(variables(noMechanism)).toEqual(['KAFKA_SASL_MECHANISM']);
  });

  it('requires KAFKA_BROKERS when BUS=kafka', () => {
    const error = configErrorOf(() => load({ BUS: 'kafka' }));
    expect(variables(error)).toEqual(['KAFKA_BROKERS']);
    expect(error.message).toContain('KAFKA_BROKERS: required when BUS=kafka');
  });

  it.each([['localhost'], ['a:9092,b'], ['host:port'], [' , '], ['a :9092']])(
    'names KAFKA_BROKERS for the bad broker list %j',
    (brokers) => {
      const error = configErrorOf(() => load({ BUS: 'kafka', KAFKA_BROKERS: brokers }));
      expect(variables(error).every((v) => v.startsWith('KAFKA_BROKERS'))).toBe(true);
      expect(error.message).toMatch(/KAFKA_BROKERS.*(host:port|at least one broker)/);
    },
  );

  it('rejects an unknown BUS, naming BUS', () => {
    const error = configErrorOf(() => load({ BUS: 'rabbitmq' }));
    expect(variables(error)).toEqual(['BUS']);
  });

  it.each([
    ['true', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['off', false],
  ])('parses KAFKA_SSL=%s as %s', (raw, expected) => {
    const config = load({ KAFKA_BROKERS: 'k:9092', KAFKA_SSL: raw });
    expect(config.BUS === 'kafka' && config.KAFKA_SSL).toBe(expected);
  });

  it('rejects a KAFKA_SSL that is not a boolean, naming it', () => {
    const error = configErrorOf(() => load({ KAFKA_BROKERS: 'k:9092', KAFKA_SSL: 'maybe' }));
    expect(variables(error)).toEqual(['KAFKA_SSL']);
  });

  it.each(['postgres://u:p@h:5432/db', 'postgresql://u:p@h/db', 'sqlite:/tmp/x.db', 'sqlite::memory:'])(
    'accepts DATABASE_URL=%s',
    (url) => {
      expect(load({ DATABASE_URL: url }).DATABASE_URL).toBe(url);
    },
  );

  it('rejects a mysql:// DATABASE_URL, naming DATABASE_URL', () => {
    const error = configErrorOf(() => load({ DATABASE_URL: 'mysql://u:p@h:3306/db' }));
    expect(variables(error)).toEqual(['DATABASE_URL']);
    expect(error.message).toContain('DATABASE_URL: expected postgres://');
  });

  it('lists every bad variable in one error', () => {
    const error = configErrorOf(() =>
      load({ BUS: 'kafka', KAFKA_SSL: 'maybe', DATABASE_URL: 'mysql://h/db', DEMO_PORT: '70000' }),
    );
    expect(error.service).toBe('demo');
    expect(new Set(variables(error))).toEqual(new Set(['KAFKA_BROKERS', 'KAFKA_SSL', 'DATABASE_URL', 'DEMO_PORT']));
    expect(error.message.split('\n')[0]).toBe('demo: invalid configuration');
    for (const variable of ['KAFKA_BROKERS', 'KAFKA_SSL', 'DATABASE_URL', 'DEMO_PORT']) {
      expect(error.message).toMatch(new RegExp(`^  - ${variable}: `, 'm'));
    }
  });

  it('rejects a port that is not a number, naming it', () => {
    const error = configErrorOf(() => load({ DEMO_PORT: 'http' }));
    expect(variables(error)).toEqual(['DEMO_PORT']);
  });

  it('reads process.env by default', () => {
    const schema = z.object({ LOAD_CONFIG_SPEC_VALUE: z.string() });
    process.env.LOAD_CONFIG_SPEC_VALUE = 'from-process';
    try {
      expect(loadConfig('demo', schema).LOAD_CONFIG_SPEC_VALUE).toBe('from-process');
    } finally {
      delete process.env.LOAD_CONFIG_SPEC_VALUE;
    }
  });

  it('names the environment as a whole when the problem has no path', () => {
    const schema = z.object({ A: z.string().optional() }).refine((env) => env.A === 'ok', 'A must be ok');
    const error = configErrorOf(() => loadConfig('demo', schema, {}));
    expect(error.problems).toEqual([{ variable: '(environment)', message: 'A must be ok' }]);
  });
});
