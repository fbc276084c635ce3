import { execFileSync } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rmSync } from 'node:fs';
import { FRONT_DOOR_SERVICES, frontDoorIndex, routeOf, type FrontDoorService } from '../../platform/embedded/src/front-door/routes';
import { ROUTE_SAMPLES as SAMPLES } from './front-door-samples';
import { freePort } from '../support/service-process';
import { loopbackValues, NginxProcess, nginxTest, renderFrontDoor, writeNginxPrefix } from '../support/nginx';
import { waitFor } from '../support/wait-for';

/** One request as an upstream saw it. */
interface Seen {
  service: FrontDoorService;
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  bytes: number;
}

/**
 * A real HTTP server standing where a service listens: it answers with what it received
 * (method, path, headers, body size), so the test sees exactly what nginx forwarded.
 */
class Upstream {
  received = 0;
  private server?: Server;
  constructor(readonly service: FrontDoorService) {}

  async start(): Promise<number> {
    this.server = createServer((req, res) => {
      let bytes = 0;
      req.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        this.received += chunk.length;
      });
      req.on('end', () => {
        const seen: Seen = { service: this.service, method: req.method!, url: req.url!, headers: req.headers, bytes };
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(seen));
      });
    });
    await new Promise<void>((done) => this.server!.listen(0, '127.0.0.1', done));
    return (this.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((done) => (this.server ? this.server.close(() => done()) : done()));
  }
}

describe('deploy/nginx/front-door.conf.template in a real nginx (services on loopback)', () => {
  const upstreams = new Map(FRONT_DOOR_SERVICES.map((s) => [s, new Upstream(s)]));
  let nginx: NginxProcess;

  beforeAll(async () => {
    // The web console nginx serves from dist/console (CONSOLE_ROOT).
    execFileSync(process.execPath, ['scripts/build-console.mjs'], { cwd: `${__dirname}/../..`, stdio: 'pipe' });
    const ports = {} as Record<FrontDoorService, number>;
    for (const [service, upstream] of upstreams) ports[service] = await upstream.start();
    nginx = await NginxProcess.start(await freePort(), ports);
  });
  afterAll(async () => {
    await nginx?.stop();
    for (const upstream of upstreams.values()) await upstream.close();
  });

  it('passes `nginx -t` rendered for loopback, and a placeholder without a value is an error naming it', () => {
    const dir = writeNginxPrefix(renderFrontDoor(loopbackValues(18080, Object.fromEntries(FRONT_DOOR_SERVICES.map((s, i) => [s, 19000 + i])) as Record<FrontDoorService, number>)));
    try {
      const { status, output } = nginxTest(dir);
      expect(output).toMatch(/syntax is ok/);
      expect(status, output).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(() => renderFrontDoor({ FRONT_DOOR_LISTEN: '8080' })).toThrow(/no value for INGESTION_UPSTREAM, FEATURE_STORE_UPSTREAM/);
  });

  it.each(SAMPLES)('%s %s reaches the service and path of the routing table', async (method, url) => {
    const expected = routeOf(url)!;
    expect(expected).toBeDefined();
    const response = await fetch(`${nginx.url}${url}`, { method, body: method === 'GET' ? undefined : '{}', headers: { 'content-type': 'application/json' } });
    expect(response.status, nginx.log()).toBe(200);
    const seen = (await response.json()) as Seen;
    expect({ service: seen.service, method: seen.method, url: seen.url }).toEqual({ service: expected.service, method, url: expected.url });
  });

  it('passes the client\'s host and the X-Forwarded-* headers (with the stripped prefix)', async () => {
    const prefixed = (await (await fetch(`${nginx.url}/registry/models/churn/versions/1`)).json()) as Seen;
    expect(prefixed.headers).toMatchObject({
      host: new URL(nginx.url).host,
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': new URL(nginx.url).host,
      'x-forwarded-prefix': '/registry',
    });
    const mlflow = (await (await fetch(`${nginx.url}/api/2.0/mlflow/experiments/search`)).json()) as Seen;
    expect(mlflow.headers['x-forwarded-prefix']).toBeUndefined();
  });

  it('answers / with the index of service paths (the same as embedded mode), /healthz itself, and 404 elsewhere', async () => {
    const index = await fetch(`${nginx.url}/`);
    expect(index.headers.get('content-type')).toBe('application/json');
    expect(await index.json()).toEqual(frontDoorIndex());
    expect(await (await fetch(`${nginx.url}/healthz`)).json()).toEqual({ status: 'ok' });
    // A browser gets the web console instead, and its files under /console/.
    const page = await fetch(`${nginx.url}/`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect([page.status, page.headers.get('content-type'), page.headers.get('vary')]).toEqual([200, 'text/html', 'Accept']);
    expect(await page.text()).toContain('<script type="module" src="/console/app.js">');
    const app = await fetch(`${nginx.url}/console/app.js`);
    expect(app.status).toBe(200);
    expect((await app.text()).length).toBeGreaterThan(10_000);
    for (const path of ['/nowhere', '/api/2.1/other', '/registry']) {
      const response = await fetch(`${nginx.url}${path}`, { redirect: 'manual' });
      expect(routeOf(path), path).toBeUndefined();
      expect([301, 404], path).toContain(response.status);
      if (response.status === 404) expect(await response.json()).toMatchObject({ error_code: 'ENDPOINT_NOT_FOUND' });
    }
  });

  it('streams a large upload: the service receives the first part before the client has sent the rest (no request buffering, no size limit)', async () => {
    const tracking = upstreams.get('tracking')!;
    const chunk = Buffer.alloc(1 << 20, 7);
    const total = 64;
    const before = tracking.received;
    const answer = new Promise<Seen>((done, fail) => {
      const req = request(`${nginx.url}/api/2.0/mlflow-artifacts/artifacts/1/run/artifacts/big.bin`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => (res.statusCode === 200 ? done(JSON.parse(body) as Seen) : fail(new Error(`${res.statusCode}: ${body}`))));
      });
      req.on('error', fail);
      req.write(chunk);
      // Only once the service has the first MiB does the client send the other 63: a buffering
      // proxy would hold the first part back until the end, and this would time out.
      waitFor(() => tracking.received - before >= chunk.length, 'the first MiB at the tracking upstream', 10_000)
        .then(async () => {
          for (let i = 1; i < total; i++) if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
          req.end();
        })
        .catch((error: unknown) => {
          req.destroy();
          fail(error);
        });
    });
    const seen = await answer;
    expect(seen).toMatchObject({ service: 'tracking', method: 'PUT', bytes: total * chunk.length });
  }, 60_000);
});
