import { Counter } from 'prom-client';
import { startMetricsServer, type MetricsServer } from './metrics-endpoint';
import { createMetricsRegistry } from './registry';
import { parseExposition, valueOf } from './test/parse-exposition';

describe('startMetricsServer (for processes without an HTTP API)', () => {
  const registry = createMetricsRegistry({ service: 'serving' });
  const inferences = new Counter({ name: 'demo_inferences_total', help: 'demo', registers: [registry] });
  let server: MetricsServer;

  beforeAll(async () => {
    server = await startMetricsServer({ registry, port: 0 });
  });
  afterAll(() => server.close());

  it('serves the registry at GET /metrics in the Prometheus text format', async () => {
    inferences.inc(7);
    const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(registry.contentType);
    const metrics = parseExposition(await response.text());
    expect(valueOf(metrics, 'demo_inferences_total', { service: 'serving' })).toBe(7);
    expect(metrics.types.get('process_cpu_seconds_total')).toBe('counter');
  });

  it('answers liveness and nothing else', async () => {
    expect((await fetch(`http://127.0.0.1:${server.port}/health/live`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
  });
});
