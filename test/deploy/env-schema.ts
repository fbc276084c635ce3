import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { z } from 'zod';

export const WORKSPACE_ROOT = resolve(__dirname, '../..');

/** Variables a service reads outside its config schema: the OpenTelemetry SDK's own, and Node's. */
export function readOutsideSchema(variable: string): boolean {
  return variable.startsWith('OTEL_') || variable === 'NODE_ENV';
}

/** Every deployable service: one folder under services/. */
export function serviceNames(): string[] {
  return readdirSync(join(WORKSPACE_ROOT, 'services'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

export interface ServiceConfigModule {
  /** The zod schema the service parses its environment with (`<name>EnvSchema`). */
  schema: z.ZodType;
  /** The service's own loader (`load<Name>Config`), with the defaults it adds before parsing. */
  load: (env: NodeJS.ProcessEnv) => unknown;
}

/** Imports services/<name>/src/<name>.config.ts and finds its env schema and loader by convention. */
export async function importServiceConfig(service: string): Promise<ServiceConfigModule> {
  const file = join(WORKSPACE_ROOT, 'services', service, 'src', `${service}.config.ts`);
  const module = (await import(/* @vite-ignore */ file)) as Record<string, unknown>;
  const schemas = Object.entries(module).filter(([name]) => name.endsWith('EnvSchema'));
  const loaders = Object.entries(module).filter(([name, value]) => /^load\w+Config$/.test(name) && typeof value === 'function');
  if (schemas.length !== 1 || loaders.length !== 1) {
    throw new Error(
      `${file}: expected exactly one export named *EnvSchema and one load*Config, found ` +
        `[${schemas.map(([n]) => n).join(', ')}] and [${loaders.map(([n]) => n).join(', ')}]`,
    );
  }
  return { schema: schemas[0][1] as z.ZodType, load: loaders[0][1] as ServiceConfigModule['load'] };
}

export interface EnvVariables {
  /** Every variable the schema reads, in any variant of its discriminated unions. */
  known: Set<string>;
  /** Variables without a default that the variants chosen by `env` need. */
  required: Set<string>;
}

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  left?: z.ZodType;
  right?: z.ZodType;
  in?: z.ZodType;
  options?: z.ZodType[];
  discriminator?: string;
}
const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: Def } })._zod.def;

/**
 * The variables a zod env schema reads, by walking objects, intersections (`.and`), pipes
 * and (discriminated) unions. For a union, the variant is the one whose discriminator
 * accepts `env`'s value (e.g. BUS=kafka); its variables are required, the others' known.
 */
export function envVariables(schema: z.ZodType, env: Record<string, string | undefined>): EnvVariables {
  const result: EnvVariables = { known: new Set(), required: new Set() };
  const walk = (node: z.ZodType, chosen: boolean) => {
    const def = defOf(node);
    switch (def.type) {
      case 'object':
        for (const [key, field] of Object.entries(def.shape ?? {})) {
          result.known.add(key);
          if (chosen && !field.safeParse(undefined).success) result.required.add(key);
        }
        return;
      case 'intersection':
        walk(def.left as z.ZodType, chosen);
        walk(def.right as z.ZodType, chosen);
        return;
      case 'pipe':
        walk(def.in as z.ZodType, chosen);
        return;
      case 'union': {
        const options = def.options ?? [];
        const discriminator = def.discriminator;
        const picked = discriminator
          ? options.find((option) => defOf(option).shape?.[discriminator]?.safeParse(env[discriminator]).success)
          : undefined;
        for (const option of options) walk(option, chosen && option === picked);
        return;
      }
      default:
        throw new Error(`envVariables: unsupported zod node '${def.type}' at the top of an env schema`);
    }
  };
  walk(schema, true);
  return result;
}

/** What is wrong with `env` for a service: unknown variables, missing required ones, and the loader's own errors. */
export function envProblems(config: ServiceConfigModule, env: Record<string, string>): string[] {
  const { known, required } = envVariables(config.schema, env);
  const problems = [
    ...Object.keys(env)
      .filter((name) => !known.has(name) && !readOutsideSchema(name))
      .map((name) => `${name}: not read by the service's config schema`),
    ...[...required].filter((name) => env[name] === undefined).map((name) => `${name}: required but not set`),
  ];
  try {
    config.load(env);
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }
  return problems;
}

/** The parsed values of the schema's port variables (`*_PORT`), e.g. {INGESTION_PORT: 3001}. */
export function configuredPorts(config: ServiceConfigModule, env: Record<string, string>): Record<string, number> {
  const parsed = config.load(env) as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(parsed).filter((entry): entry is [string, number] => entry[0].endsWith('_PORT') && typeof entry[1] === 'number'),
  );
}

/**
 * Settings whose defaults suit only the embedded mode: in a container (read-only root
 * filesystem, several processes) every service must use Kafka, Postgres, Redis for the online
 * store, and keep artifacts on the mounted volume (`mount`) rather than under ./.mlops.
 */
export function distributedModeProblems(config: ServiceConfigModule, env: Record<string, string>, mount: string): string[] {
  const { known } = envVariables(config.schema, env);
  const problems: string[] = [];
  if (env.BUS !== 'kafka') problems.push(`BUS: expected kafka, got ${env.BUS}`);
  if (known.has('DATABASE_URL') && !/^postgres(ql)?:\/\//.test(env.DATABASE_URL ?? '')) {
    problems.push(`DATABASE_URL: expected postgres://..., got ${env.DATABASE_URL ?? 'the sqlite default'}`);
  }
  if (known.has('ONLINE_STORE') && env.ONLINE_STORE !== 'redis') problems.push(`ONLINE_STORE: expected redis, got ${env.ONLINE_STORE ?? 'the memory default'}`);
  for (const root of [...known].filter((name) => name.endsWith('_ARTIFACT_ROOT'))) {
    if (!env[root]?.startsWith(`${mount}/`)) problems.push(`${root}: expected a path under ${mount}/, got ${env[root] ?? 'the .mlops default'}`);
  }
  return problems;
}
