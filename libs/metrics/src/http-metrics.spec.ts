import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Controller, Get, HttpException, type INestApplication, Module, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createHttpMetrics, httpMetricsMiddleware, UNMATCHED_ROUTE } from './http-metrics';
import { MetricsModule } from './metrics-endpoint';
import { createMetricsRegistry } from './registry';
import { parseExposition, samplesOf, valueOf } from './test/parse-exposition';

@Controller()
class ItemsController {
  @Get('items/:id')
  item(@Param('id') id: string) {
    return { id };
  }

  @Get('teapot')
  teapot(): never {
    throw new HttpException('short and stout', 418);
  }
}

describe('HTTP metrics on a Nest app (Express adapter)', () => {
  let app: INestApplication;
  let base: string;
  const registry = createMetricsRegistry({ service: 'demo' });

  beforeAll(async () => {
    @Module({ imports: [MetricsModule.forRoot(registry)], controllers: [ItemsController] })
    class AppModule {}
    app = await NestFactory.create(AppModule, { logger: false });
    app.use(httpMetricsMiddleware(createHttpMetrics(registry)));
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(() => app.close());

  async function scrape() {
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    return parseExposition(await response.text());
  }

  it('counts requests by method, route template and status, and times them', async () => {
    for (const id of ['a', 'b', 'c']) expect((await fetch(`${base}/items/${id}`)).status).toBe(200);
    expect((await fetch(`${base}/teapot`)).status).toBe(418);
    expect((await fetch(`${base}/nowhere/42`)).status).toBe(404);

    const metrics = await scrape();
    expect(metrics.types.get('mlops_http_requests_total')).toBe('counter');
    expect(metrics.types.get('mlops_http_request_duration_seconds')).toBe('histogram');
    expect(valueOf(metrics, 'mlops_http_requests_total', { method: 'GET', route: '/items/:id', status: '200' })).toBe(3);
    expect(valueOf(metrics, 'mlops_http_requests_total', { route: '/teapot', status: '418' })).toBe(1);
    expect(valueOf(metrics, 'mlops_http_requests_total', { route: UNMATCHED_ROUTE, status: '404' })).toBe(1);
    // raw ids never become label values
    expect(samplesOf(metrics, 'mlops_http_requests_total').some((s) => s.labels.route.includes('/items/a'))).toBe(false);
    expect(valueOf(metrics, 'mlops_http_request_duration_seconds_count', { route: '/items/:id', status: '200' })).toBe(3);
    expect(valueOf(metrics, 'mlops_http_request_duration_seconds_bucket', { route: '/items/:id', le: '+Inf' })).toBe(3);
    expect(valueOf(metrics, 'mlops_http_request_duration_seconds_sum', { route: '/items/:id' })).toBeGreaterThan(0);
  });

  it('does not count the scrape itself, labels every series with the service and exports process metrics', async () => {
    await scrape();
    const metrics = await scrape();
    expect(samplesOf(metrics, 'mlops_http_requests_total', { route: '/metrics' })).toEqual([]);
    expect(metrics.samples.every((s) => s.labels.service === 'demo')).toBe(true);
    expect(valueOf(metrics, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(metrics.types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
  });
});
