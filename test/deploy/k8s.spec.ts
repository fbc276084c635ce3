import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { FRONT_DOOR_SERVICES, frontDoorIndex, routeOf } from '../../platform/embedded/src/front-door/routes';
import { NginxProcess } from '../support/nginx';
import { freePort } from '../support/service-process';
import { loadCompose, loadK8s, loadPrometheus, type K8sObject } from './deploy-files';
import { configuredPorts, distributedModeProblems, envProblems, importServiceConfig, serviceNames, WORKSPACE_ROOT, type ServiceConfigModule } from './env-schema';
import { ROUTE_SAMPLES } from './front-door-samples';
import { schemaErrors } from './k8s-schema';

const { resources, objects } = loadK8s();
const services = serviceNames();
const configs = new Map<string, ServiceConfigModule>();

beforeAll(async () => {
  for (const service of services) configs.set(service, await importServiceConfig(service));
});

/** The fields these tests read, checked with zod so a malformed manifest fails with its path. */
const envVar = z.object({
  name: z.string(),
  value: z.string().optional(),
  valueFrom: z
    .object({
      secretKeyRef: z.object({ name: z.string(), key: z.string() }).optional(),
      configMapKeyRef: z.object({ name: z.string(), key: z.string() }).optional(),
      fieldRef: z.object({ fieldPath: z.string() }).optional(),
    })
    .optional(),
});
const probe = z.object({
  httpGet: z.object({ path: z.string(), port: z.union([z.string(), z.number()]) }).optional(),
  tcpSocket: z.object({ port: z.union([z.string(), z.number()]) }).optional(),
  exec: z.object({ command: z.array(z.string()) }).optional(),
  grpc: z.object({ port: z.number() }).optional(),
});
const quantities = z.object({ cpu: z.string(), memory: z.string() });
const container = z.object({
  name: z.string(),
  image: z.string(),
  ports: z.array(z.object({ name: z.string(), containerPort: z.number() })).default([]),
  env: z.array(envVar).default([]),
  envFrom: z.array(z.object({ configMapRef: z.object({ name: z.string() }).optional(), secretRef: z.object({ name: z.string() }).optional() })).default([]),
  livenessProbe: probe,
  readinessProbe: probe,
  resources: z.object({ requests: quantities, limits: quantities }),
  securityContext: z.object({
    allowPrivilegeEscalation: z.literal(false),
    readOnlyRootFilesystem: z.literal(true),
    capabilities: z.object({ drop: z.array(z.string()).refine((d) => d.includes('ALL'), 'expected ALL dropped') }),
  }),
  volumeMounts: z.array(z.object({ name: z.string(), mountPath: z.string() })).default([]),
});
const workload = z.object({
  kind: z.enum(['Deployment', 'StatefulSet']),
  metadata: z.object({ name: z.string() }),
  spec: z.object({
    selector: z.object({ matchLabels: z.record(z.string(), z.string()) }),
    serviceName: z.string().optional(),
    template: z.object({
      metadata: z.object({ labels: z.record(z.string(), z.string()), annotations: z.record(z.string(), z.string()).default({}) }),
      spec: z.object({
        securityContext: z.object({ runAsNonRoot: z.literal(true), runAsUser: z.number().int().positive() }),
        containers: z.array(container).length(1),
        volumes: z
          .array(z.object({ name: z.string(), persistentVolumeClaim: z.object({ claimName: z.string() }).optional() }))
          .default([]),
      }),
    }),
  }),
});
const service = z.object({
  spec: z.object({
    selector: z.record(z.string(), z.string()),
    ports: z.array(z.object({ name: z.string(), port: z.number(), targetPort: z.union([z.string(), z.number()]) })),
  }),
});

const find = (kind: string | string[], name: string) =>
  objects.find((o) => (Array.isArray(kind) ? kind.includes(o.kind) : o.kind === kind) && o.metadata.name === name);
const workloadOf = (name: string) => {
  const found = find(['Deployment', 'StatefulSet'], name);
  if (!found) throw new Error(`deploy/k8s has no Deployment or StatefulSet '${name}' (services/${name} exists)`);
  return workload.parse(found);
};
const serviceOf = (name: string) => {
  const found = find('Service', name);
  if (!found) throw new Error(`deploy/k8s has no Service '${name}' (services/${name} exists)`);
  return service.parse(found);
};
const dataOf = (object: K8sObject | undefined): Record<string, string> =>
  ({ ...((object?.data as Record<string, string>) ?? {}), ...((object?.stringData as Record<string, string>) ?? {}) });

/** The environment the container gets: envFrom ConfigMaps/Secrets, then env; a pod name becomes `<service>-0`. */
function resolvedEnv(name: string): Record<string, string> {
  const c = workloadOf(name).spec.template.spec.containers[0];
  const env: Record<string, string> = {};
  for (const from of c.envFrom) {
    if (from.configMapRef) Object.assign(env, dataOf(find('ConfigMap', from.configMapRef.name)));
    if (from.secretRef) Object.assign(env, dataOf(find('Secret', from.secretRef.name)));
  }
  for (const variable of c.env) {
    const ref = variable.valueFrom;
    if (variable.value !== undefined) env[variable.name] = variable.value;
    else if (ref?.secretKeyRef) env[variable.name] = dataOf(find('Secret', ref.secretKeyRef.name))[ref.secretKeyRef.key];
    else if (ref?.configMapKeyRef) env[variable.name] = dataOf(find('ConfigMap', ref.configMapKeyRef.name))[ref.configMapKeyRef.key];
    else if (ref?.fieldRef?.fieldPath === 'metadata.name') env[variable.name] = `${name}-0`;
    else throw new Error(`${name}: ${variable.name} has no value this test can resolve`);
  }
  return env;
}

/** Whether the service consumes in Kafka transactions (its transactional id is <service>.<INSTANCE_ID>). */
const transactional = (name: string) =>
  readdirSync(join(WORKSPACE_ROOT, 'services', name, 'src'))
    .filter((file) => file.endsWith('.app.ts'))
    .some((file) => /transactional:\s*true/.test(readFileSync(join(WORKSPACE_ROOT, 'services', name, 'src', file), 'utf8')));

/** Whether the service's source declares an HTTP route (`@Get('health/ready')` or `@Controller('health')` + `@Get('ready')`). */
function declaresRoute(name: string, route: string): boolean {
  const [prefix, last] = [route.slice(1, route.lastIndexOf('/')), route.slice(route.lastIndexOf('/') + 1)];
  const sources = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') && !entry.name.includes('spec') ? [join(dir, entry.name)] : [],
    );
  const declares = (text: string) =>
    text.includes(`@Get('${route.slice(1)}')`) || (text.includes(`@Controller('${prefix}')`) && text.includes(`@Get('${last}')`));
  const serviceSources = sources(join(WORKSPACE_ROOT, 'services', name, 'src')).map((file) => readFileSync(file, 'utf8'));
  // the shared health controller counts where the service mounts it
  const mountsSharedHealth = serviceSources.some((text) => /import \{[^}]*\bHealthController\b[^}]*\} from '@mlops\/http'/.test(text) && /controllers: \[[^\]]*\bHealthController\b/.test(text));
  const shared = mountsSharedHealth ? [readFileSync(join(WORKSPACE_ROOT, 'libs/http/src/health.controller.ts'), 'utf8')] : [];
  return [...serviceSources, ...shared].some(declares);
}

describe('deploy/k8s: manifests', () => {
  it('the kustomization lists every manifest in the folder, and only those', () => {
    const files = readdirSync(join(WORKSPACE_ROOT, 'deploy/k8s')).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
    expect([...resources].sort()).toEqual(files.sort());
  });

  it('every object is valid against the Kubernetes OpenAPI schema (kubernetes-models)', async () => {
    const errors = (await Promise.all(objects.map(schemaErrors))).flat();
    expect(errors).toEqual([]);
  });

  it('every ConfigMap, Secret and claim a workload references exists, with the keys it reads', () => {
    for (const object of objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')) {
      const spec = workload.parse(object).spec.template.spec;
      for (const from of spec.containers[0].envFrom) {
        if (from.configMapRef) expect(find('ConfigMap', from.configMapRef.name), from.configMapRef.name).toBeDefined();
        if (from.secretRef) expect(find('Secret', from.secretRef.name), from.secretRef.name).toBeDefined();
      }
      for (const variable of spec.containers[0].env) {
        const ref = variable.valueFrom?.secretKeyRef;
        if (ref) expect(Object.keys(dataOf(find('Secret', ref.name))), `${object.metadata.name} ${variable.name}`).toContain(ref.key);
      }
      for (const volume of spec.volumes) {
        if (volume.persistentVolumeClaim) expect(find('PersistentVolumeClaim', volume.persistentVolumeClaim.claimName)).toBeDefined();
      }
      const volumes = spec.volumes.map((v) => v.name);
      for (const mount of spec.containers[0].volumeMounts) expect(volumes).toContain(mount.name);
    }
  });
});

describe.each(services)('deploy/k8s: %s', (name) => {
  it('has a workload and a Service whose selectors match the pod labels', () => {
    const { spec } = workloadOf(name);
    const pod = spec.template.metadata.labels;
    expect(pod).toMatchObject(spec.selector.matchLabels);
    expect(pod).toMatchObject(serviceOf(name).spec.selector);
  });

  it('exposes in its Service exactly the container ports, which are the ports its config listens on (plus metrics)', () => {
    const c = workloadOf(name).spec.template.spec.containers[0];
    const svc = serviceOf(name);
    expect(svc.spec.ports.map((p) => [p.name, p.port, p.targetPort])).toEqual(c.ports.map((p) => [p.name, p.containerPort, p.name]));
    const configured = Object.values(configuredPorts(configs.get(name)!, resolvedEnv(name)));
    const extra = c.ports.filter((p) => !configured.includes(p.containerPort)).map((p) => p.name);
    expect(extra.every((portName) => portName === 'metrics')).toBe(true);
    for (const port of configured) expect(c.ports.map((p) => p.containerPort)).toContain(port);
  });

  it('sets exactly the variables its config schema reads, they parse, and they are the ones compose sets', () => {
    const env = resolvedEnv(name);
    expect(envProblems(configs.get(name)!, env)).toEqual([]);
    expect(Object.keys(env).sort()).toEqual(Object.keys(loadCompose().services[name].environment).sort());
  });

  it('runs in distributed mode: Kafka, Postgres, Redis, artifact roots on the mounted artifacts volume', () => {
    const c = workloadOf(name).spec.template.spec.containers[0];
    const artifacts = c.volumeMounts.find((m) => m.name === 'artifacts')?.mountPath ?? '(no artifacts volume)';
    expect(distributedModeProblems(configs.get(name)!, resolvedEnv(name), artifacts)).toEqual([]);
  });

  it('probes its real health endpoints', () => {
    const c = workloadOf(name).spec.template.spec.containers[0];
    if (c.ports.some((p) => p.name === 'http')) {
      expect(c.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
      expect(c.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
      expect(declaresRoute(name, '/health/live')).toBe(true);
      expect(declaresRoute(name, '/health/ready')).toBe(true);
    } else {
      // gRPC only: readiness asks the KServe v2 ServerReady RPC through the probe script in the image
      const command = c.readinessProbe.exec?.command ?? [];
      expect(command.slice(0, 2)).toEqual(['node', '/app/probes/kserve-ready.js']);
      expect(existsSync(join(WORKSPACE_ROOT, 'deploy/docker/probes/kserve-ready.js'))).toBe(true);
      const grpcPort = c.ports.find((p) => p.name === 'grpc')!.containerPort;
      expect(command[2]).toBe(`127.0.0.1:${grpcPort}`);
    }
  });

  it('runs as non-root with a read-only root filesystem and resource requests and limits', () => {
    // the zod schema above requires these; parsing is the assertion
    expect(() => workloadOf(name)).not.toThrow();
    expect(workloadOf(name).spec.template.spec.containers[0].image).toMatch(new RegExp(`^mlops/${name}:\\d+\\.\\d+\\.\\d+$`));
  });

  it('is a StatefulSet with INSTANCE_ID = pod name when it consumes in Kafka transactions', () => {
    const w = workloadOf(name);
    const instance = w.spec.template.spec.containers[0].env.find((v) => v.name === 'INSTANCE_ID');
    if (transactional(name)) {
      expect(w.kind).toBe('StatefulSet');
      expect(w.spec.serviceName).toBe(name);
      expect(instance?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    } else {
      expect(w.kind).toBe('Deployment');
    }
  });

  it('is annotated for Prometheus on the port prometheus.yml scrapes', () => {
    const annotations = workloadOf(name).spec.template.metadata.annotations;
    const job = loadPrometheus().scrape_configs.find((j) => j.job_name === name);
    const port = job?.static_configs[0]?.targets[0]?.split(':')[1];
    expect(annotations['prometheus.io/scrape']).toBe('true');
    expect(annotations['prometheus.io/port']).toBe(port);
    expect(annotations['prometheus.io/path']).toBe(job?.metrics_path);
  });
});

describe('the Kubernetes checks catch broken manifests (fixtures)', () => {
  const deployment = (): K8sObject =>
    JSON.parse(JSON.stringify(objects.find((o) => o.kind === 'Deployment'))) as K8sObject;

  it('the schema rejects a wrong type and a missing required field, naming the path', async () => {
    const badPort = deployment();
    ((badPort.spec as { template: { spec: { containers: { ports: { containerPort: unknown }[] }[] } } }).template.spec.containers[0].ports[0]).containerPort = 'http';
    expect((await schemaErrors(badPort)).join()).toMatch(/containerPort must be integer/);

    const noSelector = deployment();
    delete (noSelector.spec as { selector?: unknown }).selector;
    expect((await schemaErrors(noSelector)).join()).toMatch(/spec must have required property selector/);
  });

  it('an unsupported kind is an error, not a pass', async () => {
    expect(await schemaErrors({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'x' } })).toEqual([
      'batch/v1/CronJob: no schema wired in test/deploy/k8s-schema.ts',
    ]);
  });

  it('the local checks reject a root container and a writable root filesystem', () => {
    const rooted = deployment() as unknown as { spec: { template: { spec: { securityContext: object; containers: { securityContext: object }[] } } } };
    rooted.spec.template.spec.securityContext = { runAsNonRoot: false, runAsUser: 0 };
    rooted.spec.template.spec.containers[0].securityContext = { readOnlyRootFilesystem: false };
    const result = workload.safeParse(rooted);
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['spec.template.spec.securityContext.runAsNonRoot', 'spec.template.spec.securityContext.runAsUser']));
    expect(paths.some((p) => p.startsWith('spec.template.spec.containers.0.securityContext'))).toBe(true);
  });
});

describe('deploy/k8s: feature-store-online (read replicas of the feature store)', () => {
  const name = 'feature-store-online';

  it('runs the feature store image in the serve role, with an environment its config accepts, and no consumer identity', () => {
    const { kind, spec } = workloadOf(name);
    const c = spec.template.spec.containers[0];
    expect(kind).toBe('Deployment');
    expect(c.image).toMatch(/^mlops\/feature-store:\d+\.\d+\.\d+$/);
    const env = resolvedEnv(name);
    expect(env).toMatchObject({ FEATURE_STORE_ROLE: 'serve', ONLINE_STORE: 'redis' });
    expect(env.INSTANCE_ID).toBeUndefined();
    expect(envProblems(configs.get('feature-store')!, env)).toEqual([]);
  });

  it('reads the same stores as the feature-store StatefulSet: every shared setting equal, only the role differs', () => {
    const { INSTANCE_ID, ...writer } = resolvedEnv('feature-store');
    const { FEATURE_STORE_ROLE, ...reader } = resolvedEnv(name);
    expect(INSTANCE_ID).toBe('feature-store-0');
    expect(FEATURE_STORE_ROLE).toBe('serve');
    expect(reader).toEqual(writer);
  });

  it('has its own Service, selecting only the reader pods, on the same ports, probed on the real health endpoints', () => {
    const { spec } = workloadOf(name);
    const pod = spec.template.metadata.labels;
    expect(pod).toMatchObject(serviceOf(name).spec.selector);
    expect(serviceOf('feature-store').spec.selector).not.toMatchObject(pod);
    expect(serviceOf(name).spec.ports).toEqual(serviceOf('feature-store').spec.ports);
    const c = spec.template.spec.containers[0];
    expect(c.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
  });
});

describe('deploy/k8s: the front door (ingress-nginx Ingress)', () => {
  const ingressPath = z.object({
    path: z.string(),
    pathType: z.enum(['Prefix', 'Exact', 'ImplementationSpecific']),
    backend: z.object({ service: z.object({ name: z.string(), port: z.object({ name: z.string() }) }) }),
  });
  const ingress = z.object({
    metadata: z.object({ name: z.string(), annotations: z.record(z.string(), z.string()).default({}) }),
    spec: z.object({ ingressClassName: z.literal('nginx'), rules: z.array(z.object({ http: z.object({ paths: z.array(ingressPath) }) })).length(1) }),
  });
  const ingresses = objects.filter((o) => o.kind === 'Ingress').map((o) => ingress.parse(o));

  /**
   * ingress-nginx's choice for a request: with a regex path on the host, every path of the host
   * is a case-insensitive regex anchored at the start, tried longest first; the Ingress's
   * rewrite-target (if any) then replaces the matched path, keeping the query.
   */
  function ingressRoute(url: string): { service: string; url: string } | undefined {
    const [path, query] = [url.split('?')[0], url.includes('?') ? url.slice(url.indexOf('?')) : ''];
    const candidates = ingresses
      .flatMap((i) => i.spec.rules[0].http.paths.map((p) => ({ ...p, rewrite: i.metadata.annotations['nginx.ingress.kubernetes.io/rewrite-target'] })))
      .sort((a, b) => b.path.length - a.path.length);
    const match = candidates.find((c) => new RegExp(`^${c.path}`, 'i').test(path));
    if (!match) return undefined;
    const rewritten = match.rewrite ? path.replace(new RegExp(`^${match.path}`, 'i'), match.rewrite) : path;
    return { service: match.backend.service.name, url: `${rewritten}${query}` };
  }

  it('is listed in the kustomization and streams bodies through unlimited and unbuffered', () => {
    expect(resources).toContain('ingress.yaml');
    expect(ingresses.map((i) => i.metadata.name).sort()).toEqual(['front-door-console', 'front-door-mlflow', 'front-door-services']);
    for (const i of ingresses) {
      expect(i.metadata.annotations).toMatchObject({
        'nginx.ingress.kubernetes.io/proxy-body-size': '0',
        'nginx.ingress.kubernetes.io/proxy-request-buffering': 'off',
      });
    }
  });

  it('passes ingress-nginx\'s path validation: Prefix/Exact paths only of letters, digits, /, _ and -; regex paths ImplementationSpecific', () => {
    const paths = ingresses.flatMap((i) => i.spec.rules[0].http.paths);
    expect(paths.filter((p) => p.pathType !== 'ImplementationSpecific' && !/^\/[A-Za-z0-9/_-]*$/.test(p.path))).toEqual([]);
    for (const i of ingresses.filter((x) => x.spec.rules[0].http.paths.some((p) => p.pathType === 'ImplementationSpecific'))) {
      expect(i.metadata.annotations['nginx.ingress.kubernetes.io/use-regex'], i.metadata.name).toBe('true');
    }
  });

  it('points every path at an existing Service and one of its ports: http, or serving\'s metrics', () => {
    for (const i of ingresses) {
      for (const { backend } of i.spec.rules[0].http.paths) {
        const ports = serviceOf(backend.service.name).spec.ports.map((p) => p.name);
        expect(ports, `${i.metadata.name} -> ${backend.service.name}`).toContain(backend.service.port.name);
        expect(backend.service.port.name).toBe(backend.service.name === 'serving' ? 'metrics' : 'http');
      }
    }
  });

  it('strips /<service>/ for every service of the table and keeps the MLflow paths', () => {
    const stripped = ingresses.find((i) => i.metadata.annotations['nginx.ingress.kubernetes.io/rewrite-target']);
    expect(stripped?.metadata.annotations).toMatchObject({ 'nginx.ingress.kubernetes.io/use-regex': 'true', 'nginx.ingress.kubernetes.io/rewrite-target': '/$2' });
    expect(stripped!.spec.rules[0].http.paths.map((p) => p.backend.service.name).sort()).toEqual([...FRONT_DOOR_SERVICES].sort());
  });

  it.each(ROUTE_SAMPLES)('%s %s goes where the routing table says', (_method, url) => {
    expect(ingressRoute(url)).toEqual(routeOf(url));
  });

  it('sends `/`, /healthz and the console\'s files to the console\'s nginx, path unchanged', () => {
    for (const url of ['/', '/?x=1', '/healthz', '/console/app.js', '/console/index.html']) expect(ingressRoute(url), url).toEqual({ service: 'console', url });
  });

  it('routes nothing outside the table', () => {
    for (const url of ['/nowhere', '/api/2.1/other', '/consoles', '/healthz/x']) expect(ingressRoute(url), url).toBeUndefined();
  });
});

describe('deploy/k8s: the web console (console.yaml) in a real nginx', () => {
  const config = find('ConfigMap', 'console-nginx');
  const deployment = workload.parse(find('Deployment', 'console'));
  const raw = find('Deployment', 'console') as unknown as {
    spec: { template: { spec: { initContainers: { image: string; command: string[]; volumeMounts: { name: string; mountPath: string }[] }[]; volumes: { name: string; configMap?: { name: string } }[] } } };
  };
  let nginx: NginxProcess;

  beforeAll(async () => {
    execFileSync(process.execPath, ['scripts/build-console.mjs'], { cwd: WORKSPACE_ROOT, stdio: 'pipe' });
    const port = await freePort();
    // The ConfigMap's server as the pod runs it, on loopback, the files where the build put them.
    const conf = dataOf(config)['default.conf'].replace('listen 8080;', `listen 127.0.0.1:${port};`).replace('/usr/share/nginx/console/', `${join(WORKSPACE_ROOT, 'dist/console')}/`);
    nginx = await NginxProcess.serve(conf, port);
  });
  afterAll(async () => {
    await nginx?.stop();
  });

  it('mounts the files the init container copies out of a platform image where the config serves them from, and its config', () => {
    const [init] = raw.spec.template.spec.initContainers;
    expect(init.image).toMatch(/^mlops\/[a-z-]+:\d+\.\d+\.\d+$/);
    // deploy/docker/Dockerfile: WORKDIR /app, dist copied whole.
    expect(init.command).toEqual(['cp', '-R', '/app/dist/console/.', '/console/']);
    expect(readFileSync(join(WORKSPACE_ROOT, 'deploy/docker/Dockerfile'), 'utf8')).toMatch(/WORKDIR \/app[\s\S]*COPY --from=build \/app\/dist \.\/dist/);
    const filesVolume = init.volumeMounts.find((m) => m.mountPath === '/console')!.name;
    const [c] = deployment.spec.template.spec.containers;
    expect(c.volumeMounts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: filesVolume, mountPath: '/usr/share/nginx/console' }),
        expect.objectContaining({ name: 'config', mountPath: '/etc/nginx/conf.d' }),
      ]),
    );
    expect(raw.spec.template.spec.volumes.find((v) => v.name === 'config')?.configMap?.name).toBe('console-nginx');
    expect(c.ports).toEqual([{ name: 'http', containerPort: 8080 }]);
    expect(deployment.spec.template.metadata.labels).toMatchObject(serviceOf('console').spec.selector);
  });

  it('answers a browser at `/` with the console and curl with the front door\'s JSON index', async () => {
    const html = await fetch(`${nginx.url}/`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await html.text()).toBe(readFileSync(join(WORKSPACE_ROOT, 'dist/console/index.html'), 'utf8'));
    const curl = await fetch(`${nginx.url}/`, { headers: { accept: '*/*' } });
    expect(curl.headers.get('content-type')).toBe('application/json');
    expect(await curl.json()).toEqual(frontDoorIndex());
    const js = await fetch(`${nginx.url}/console/app.js`);
    expect([js.status, js.headers.get('content-type')]).toEqual([200, 'text/javascript']);
    expect((await fetch(`${nginx.url}/console/app.css`)).headers.get('content-type')).toBe('text/css');
    expect(await (await fetch(`${nginx.url}/healthz`)).json()).toEqual({ status: 'ok' });
  });
});
