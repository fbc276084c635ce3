import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveConsole, wantsHtml } from './console';
import { frontDoorIndex, routeOf, type FrontDoorService } from './routes';

export interface FrontDoor {
  /** http://<host>:<port>: what MLFLOW_TRACKING_URI points at. */
  url: string;
  port: number;
  /** Where a service's own HTTP API answers, e.g. `${url}/registry`. */
  urlOf(service: FrontDoorService): string;
  /**
   * Serves `service` with its handler from now on: a Nest app's Express instance
   * (`app.getHttpAdapter().getInstance()`, after `app.init()`), or serving's metrics listener.
   */
  mount(service: FrontDoorService, handler: RequestListener): void;
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
};

/**
 * Embedded mode's one HTTP port, serving the routing table of routes.ts: each request goes to
 * its service's own handler in this process, so each keeps its auth, body limits, metrics and
 * error filter, and bodies stream through untouched. A prefixed request reaches the service as
 * `req.url` without the prefix (`originalUrl` keeps the full one), as nginx forwards it in
 * distributed mode. A service not mounted yet answers 503.
 */
export async function startFrontDoor(options: { port: number; host?: string }): Promise<FrontDoor> {
  const handlers = new Map<FrontDoorService, RequestListener>();
  const server = createServer((req: IncomingMessage & { originalUrl?: string }, res) => {
    const url = req.url ?? '/';
    const route = routeOf(url);
    if (!route) {
      const path = url.split('?')[0];
      const read = req.method === 'GET' || req.method === 'HEAD';
      // Browsers get the web console at `/`; curl and API clients (no text/html) the index.
      if (path === '/' && read && wantsHtml(req)) return serveConsole(res, 'index.html');
      if (path === '/' && read) {
        res.setHeader('vary', 'Accept');
        return json(res, 200, frontDoorIndex());
      }
      if (path.startsWith('/console/') && read) return serveConsole(res, path.slice('/console/'.length));
      if (path === '/healthz') return json(res, 200, { status: 'ok' });
      return json(res, 404, { error_code: 'ENDPOINT_NOT_FOUND', message: `no route for ${path}: see GET / for the service paths` });
    }
    const handler = handlers.get(route.service);
    if (!handler) return json(res, 503, { error_code: 'TEMPORARILY_UNAVAILABLE', message: `${route.service} is not started yet` });
    req.originalUrl = url;
    req.url = route.url;
    handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address}:${port}`;
  return {
    url,
    port,
    urlOf: (service) => `${url}/${service}`,
    mount: (service, handler) => void handlers.set(service, handler),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
