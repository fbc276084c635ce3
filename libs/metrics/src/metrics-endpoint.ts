import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Inject, Module, Res, type DynamicModule } from '@nestjs/common';
import type { Registry } from 'prom-client';

export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

/** Writes the registry in Prometheus text format (or a 500 naming the failure). */
async function writeMetrics(registry: Registry, res: ServerResponse): Promise<void> {
  try {
    const body = await registry.metrics();
    res.statusCode = 200;
    res.setHeader('content-type', registry.contentType);
    res.end(body);
  } catch (error) {
    res.statusCode = 500;
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end(`metrics collection failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** A request handler serving the registry; mount it at GET /metrics on any Express-like app. */
export function metricsHandler(registry: Registry) {
  return (_req: IncomingMessage, res: ServerResponse): void => {
    void writeMetrics(registry, res);
  };
}

@Controller()
class MetricsController {
  constructor(@Inject(METRICS_REGISTRY) private readonly registry: Registry) {}

  @Get('metrics')
  async scrape(@Res() res: ServerResponse): Promise<void> {
    await writeMetrics(this.registry, res);
  }
}

/** `imports: [MetricsModule.forRoot(registry)]` adds GET /metrics to a Nest HTTP app. */
@Module({})
export class MetricsModule {
  static forRoot(registry: Registry): DynamicModule {
    return {
      module: MetricsModule,
      controllers: [MetricsController],
      providers: [{ provide: METRICS_REGISTRY, useValue: registry }],
    };
  }
}

export interface MetricsServer {
  /** The bound port (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

/**
 * The request listener of a process with no HTTP API of its own: GET /metrics and
 * GET /health/live, 404 otherwise. startMetricsServer listens with it; a front door may mount it.
 */
export function metricsRequestListener(registry: Registry): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') return void writeMetrics(registry, res);
    if (req.method === 'GET' && path === '/health/live') {
      res.setHeader('content-type', 'application/json');
      return void res.end('{"status":"ok"}');
    }
    res.statusCode = 404;
    res.end();
  };
}

/**
 * A plain HTTP server answering GET /metrics (and GET /health/live), for processes with no HTTP
 * API of their own, such as the gRPC-only serving service.
 */
export async function startMetricsServer(options: { registry: Registry; port: number; host?: string }): Promise<MetricsServer> {
  const server: Server = createServer(metricsRequestListener(options.registry));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
