import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FRONT_DOOR_SERVICES } from '../../platform/embedded/src/front-door/routes';
import { FRONT_DOOR_TEMPLATE, renderFrontDoor, upstreamVariable } from '../support/nginx';
import { containerPort, loadCompose, loadPrometheus, read, type ComposeService } from './deploy-files';
import { configuredPorts, distributedModeProblems, envProblems, importServiceConfig, serviceNames, WORKSPACE_ROOT, type ServiceConfigModule } from './env-schema';

const compose = loadCompose();
const services = serviceNames();
const configs = new Map<string, ServiceConfigModule>();

beforeAll(async () => {
  for (const service of services) configs.set(service, await importServiceConfig(service));
});

const composeService = (name: string): ComposeService => {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service '${name}' (services/${name} exists)`);
  return found;
};

/** Host names an env value points at: `kafka:9092`, `postgres://u:p@postgres:5432/db`, `http://tracking:5000`. */
function hostsIn(value: string): string[] {
  return value.split(',').flatMap((part) => {
    const match = /^(?:[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?)?([a-z][a-z0-9-]*):\d+/i.exec(part.trim());
    return match ? [match[1]] : [];
  });
}

describe('docker-compose.yml: one container per service', () => {
  it.each(services)('%s is built from deploy/docker/Dockerfile with SERVICE=%s and a versioned image name', (service) => {
    const entry = composeService(service);
    expect(entry.build).toMatchObject({ context: '.', dockerfile: 'deploy/docker/Dockerfile', args: { SERVICE: service } });
    expect(entry.image).toMatch(new RegExp(`^mlops/${service}:\\d+\\.\\d+\\.\\d+$`));
  });

  it.each(services)('%s sets exactly the variables its config schema reads, and they parse', (service) => {
    expect(envProblems(configs.get(service)!, composeService(service).environment)).toEqual([]);
  });

  it.each(services)('%s runs in distributed mode: Kafka, Postgres, Redis, artifacts on the shared volume', (service) => {
    expect(distributedModeProblems(configs.get(service)!, composeService(service).environment, '/artifacts')).toEqual([]);
    expect(composeService(service).volumes).toContain('artifacts:/artifacts');
  });

  it.each(services)('%s publishes the ports it is configured to listen on (plus its metrics port)', (service) => {
    const entry = composeService(service);
    const configured = Object.values(configuredPorts(configs.get(service)!, entry.environment));
    const published = entry.ports.map(containerPort);
    const scraped = loadPrometheus()
      .scrape_configs.find((job) => job.job_name === service)
      ?.static_configs.flatMap((c) => c.targets)
      .map((target) => Number(target.split(':')[1]));
    expect(configured.length).toBeGreaterThan(0);
    expect(new Set(published)).toEqual(new Set([...configured, ...(scraped ?? [])]));
  });

  it.each(services)('%s has a healthcheck on one of its own ports', (service) => {
    const entry = composeService(service);
    expect(entry.healthcheck, `${service} has no healthcheck`).toBeDefined();
    const command = entry.healthcheck!.test.join(' ');
    const ports = entry.ports.map(containerPort);
    expect(ports.some((port) => command.includes(`127.0.0.1:${port}`))).toBe(true);
    for (const script of command.match(/\/app\/probes\/[\w.-]+\.js/g) ?? []) {
      expect(existsSync(join(WORKSPACE_ROOT, 'deploy/docker/probes', script.slice('/app/probes/'.length)))).toBe(true);
    }
  });

  it.each(services)('%s waits for every compose host its environment points at', (service) => {
    const entry = composeService(service);
    const hosts = new Set(Object.values(entry.environment).flatMap(hostsIn).filter((host) => host in compose.services));
    expect(hosts.size).toBeGreaterThan(0);
    for (const host of hosts) expect(Object.keys(entry.depends_on), `${service} -> ${host}`).toContain(host);
  });

  it.each(services)('%s keeps every artifact root on the one shared artifacts volume', (service) => {
    const entry = composeService(service);
    const shared = entry.volumes.filter((v) => v.startsWith('artifacts:')).map((v) => v.split(':')[1]);
    for (const [name, value] of Object.entries(entry.environment).filter(([name]) => name.endsWith('_ARTIFACT_ROOT'))) {
      expect(shared.some((mount) => value.startsWith(`${mount}/`)), `${name}=${value} is not under the artifacts volume`).toBe(true);
    }
  });

  it('declares the artifacts volume', () => {
    expect(Object.keys(compose.volumes ?? {})).toContain('artifacts');
  });
});

describe('docker-compose.yml: the front door (nginx, one published port)', () => {
  const front = () => composeService('front-door');

  it('runs a pinned nginx with the template the tests run, where the image fills it from the environment', () => {
    expect(front().image).toMatch(/^nginx:\d+\.\d+\.\d+$/);
    // ... and serves the web console `npm run build` bundled, from where CONSOLE_ROOT says.
    expect(front().volumes).toEqual([`./${FRONT_DOOR_TEMPLATE}:/etc/nginx/templates/default.conf.template:ro`, `./dist/console:${front().environment.CONSOLE_ROOT}:ro`]);
    // Every placeholder has a value in the environment (renderFrontDoor names any that has none).
    expect(() => renderFrontDoor(front().environment)).not.toThrow();
  });

  it('publishes one port, the one it listens on, and answers its healthcheck there', () => {
    expect(front().ports).toEqual([`${front().environment.FRONT_DOOR_LISTEN}:${front().environment.FRONT_DOOR_LISTEN}`]);
    expect(front().healthcheck!.test.join(' ')).toContain(`127.0.0.1:${front().environment.FRONT_DOOR_LISTEN}/healthz`);
  });

  it.each(FRONT_DOOR_SERVICES)('routes /%s/ to that compose service, on the port its config listens on (serving: metrics), and starts after it', (service) => {
    const upstream = front().environment[upstreamVariable(service)];
    expect(upstream, upstreamVariable(service)).toMatch(/^[a-z-]+:\d+$/);
    const [host, port] = upstream.split(':');
    expect(host).toBe(service);
    const target = composeService(service);
    const configured = Object.entries(configuredPorts(configs.get(service)!, target.environment));
    const http = service === 'serving' ? configured.filter(([name]) => name === 'SERVING_METRICS_PORT') : configured.filter(([name]) => !name.includes('GRPC'));
    expect(http.map(([, p]) => p)).toEqual([Number(port)]);
    expect(target.ports.map(containerPort)).toContain(Number(port));
    expect(Object.keys(front().depends_on)).toContain(service);
  });
});

describe('docker-compose.yml: infrastructure', () => {
  it('pins every image it pulls to a version (no latest, no bare names)', () => {
    for (const [name, entry] of Object.entries(compose.services).filter(([, e]) => !e.build)) {
      expect(entry.image, name).toMatch(/^[\w./-]+:v?\d+(\.\d+)+$/);
    }
  });

  it('runs the Kafka version deploy/local tests kafkajs against (deploy/local/kafka/pom.xml)', () => {
    const pinned = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(read('deploy/local/kafka/pom.xml'))?.[1];
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    expect(compose.services.kafka.image).toBe(`apache/kafka:${pinned}`);
  });

  it('gives every service that others wait for as healthy a healthcheck', () => {
    const awaited = Object.values(compose.services).flatMap((entry) =>
      Object.entries(entry.depends_on)
        .filter(([, dependency]) => dependency.condition === 'service_healthy')
        .map(([name]) => name),
    );
    expect(awaited.length).toBeGreaterThan(0);
    for (const name of new Set(awaited)) expect(compose.services[name]?.healthcheck, `${name} has no healthcheck`).toBeDefined();
  });

  it('every depends_on names a compose service', () => {
    for (const entry of Object.values(compose.services)) {
      for (const name of Object.keys(entry.depends_on)) expect(Object.keys(compose.services)).toContain(name);
    }
  });
});

describe('deploy/docker/Dockerfile', () => {
  const dockerfile = read('deploy/docker/Dockerfile');

  it('builds in one stage and runs from a fresh one as a numeric non-root user', () => {
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const user = /^USER (\d+)(?::(\d+))?$/m.exec(runtime);
    expect(user, 'the runtime stage sets USER <uid>:<gid> (Kubernetes runAsNonRoot needs a number)').not.toBeNull();
    expect(Number(user![1])).toBeGreaterThan(0);
    expect(runtime).not.toMatch(/npm (install|ci)/);
  });

  it('installs with the lockfile present and copies the probes the healthchecks run', () => {
    expect(dockerfile).toMatch(/COPY package\.json package-lock\.json/);
    expect(dockerfile).toMatch(/RUN npm install\b/);
    expect(dockerfile).toMatch(/COPY deploy\/docker\/probes /);
  });
});

describe('the compose checks catch drift (fixtures)', () => {
  it('reports an unknown variable, a missing required one and a bad value, naming each', async () => {
    const ingestion = await importServiceConfig('ingestion');
    const problems = envProblems(ingestion, { BUS: 'kafka', INGESTION_PORTT: '3001', DATABASE_URL: 'mysql://x' });
    expect(problems).toEqual(
      expect.arrayContaining([
        'INGESTION_PORTT: not read by the service\'s config schema',
        'KAFKA_BROKERS: required but not set',
        expect.stringMatching(/DATABASE_URL: expected postgres/),
      ]),
    );
  });

  it('finds a service missing from a compose file', () => {
    const partial = loadCompose('services:\n  kafka:\n    image: apache/kafka:4.4.0\n');
    expect(services.filter((service) => !(service in partial.services))).toEqual(services);
  });
});
