import { collectDefaultMetrics, Registry } from 'prom-client';
import { parse } from 'yaml';
import { z } from 'zod';
import {
  createConsumerLagMetrics,
  createGrpcMetrics,
  createHttpMetrics,
  createModelVersionMetrics,
} from '../../libs/metrics/src/index';
import { FeatureStoreMetrics } from '../../services/feature-store/src/metrics';
import { MonitoringMetrics } from '../../services/monitoring/src/metrics';
import { containerPort, loadCompose, loadPrometheus, read } from './deploy-files';
import { serviceNames } from './env-schema';

const compose = loadCompose();
const prometheus = loadPrometheus();
const services = serviceNames();

/** Every series name the platform exports: libs/metrics, the services' own metrics, Node process metrics. */
async function exportedSeries(): Promise<Set<string>> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  createHttpMetrics(registry);
  createGrpcMetrics(registry);
  createConsumerLagMetrics(registry);
  createModelVersionMetrics(registry);
  const metrics = (
    await Promise.all([registry, new MonitoringMetrics().registry, new FeatureStoreMetrics().registry].map((r) => r.getMetricsAsJSON()))
  ).flat();
  const names = new Set(['up']);
  for (const metric of metrics) {
    names.add(metric.name);
    if (String(metric.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
  }
  return names;
}

/**
 * Series names in a PromQL expression: with grouping clauses, label matchers, ranges and
 * strings removed, every identifier that is not a function call (followed by `(`).
 */
function seriesIn(expr: string): string[] {
  const bare = expr
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\{[^}]*\}|\[[^\]]*\]|"[^"]*"/g, ' ');
  return [...bare.matchAll(/(?<![\w.$])([a-zA-Z_:][\w:]*)\b(?!\s*\()/g)].map((m) => m[1]).filter((name) => !/^(and|or|unless|bool|offset)$/.test(name));
}

describe('deploy/prometheus/prometheus.yml', () => {
  it.each(services)('scrapes %s at a port its container publishes (not a gRPC port)', (service) => {
    const job = prometheus.scrape_configs.find((j) => j.job_name === service);
    expect(job, `no scrape job '${service}'`).toBeDefined();
    const targets = job!.static_configs.flatMap((c) => c.targets);
    expect(targets).toHaveLength(1);
    const [host, port] = targets[0].split(':');
    expect(host).toBe(service);
    const published = compose.services[service].ports.map(containerPort);
    expect(published).toContain(Number(port));
    const grpcPorts = Object.entries(compose.services[service].environment)
      .filter(([name]) => /GRPC_PORT$/.test(name))
      .map(([, value]) => Number(value));
    expect(grpcPorts).not.toContain(Number(port));
  });

  it('every target is a compose service', () => {
    for (const job of prometheus.scrape_configs) {
      for (const target of job.static_configs.flatMap((c) => c.targets)) {
        const host = target.split(':')[0];
        if (host !== 'localhost') expect(Object.keys(compose.services), `${job.job_name}: ${target}`).toContain(host);
      }
    }
  });
});

const target = z.object({ refId: z.string(), expr: z.string().min(1), datasource: z.object({ uid: z.string() }) });
const panel = z.discriminatedUnion('type', [
  z.object({ type: z.literal('row'), id: z.number(), title: z.string() }),
  z.object({
    type: z.enum(['timeseries', 'stat', 'table', 'gauge', 'bargauge']),
    id: z.number(),
    title: z.string().min(1),
    datasource: z.object({ type: z.literal('prometheus'), uid: z.string() }),
    gridPos: z.object({ h: z.number(), w: z.number().max(24), x: z.number().min(0), y: z.number().min(0) }),
    targets: z.array(target).min(1),
  }),
]);
const dashboard = z.object({
  uid: z.string().min(1),
  title: z.string().min(1),
  schemaVersion: z.number(),
  templating: z.object({
    list: z.array(z.object({ name: z.string(), type: z.string(), current: z.object({ value: z.string() }).optional() })),
  }),
  panels: z.array(panel).min(1),
});

describe('deploy/grafana', () => {
  const json = dashboard.parse(JSON.parse(read('deploy/grafana/dashboards/mlops.json')));
  const queries = json.panels.flatMap((p) => (p.type === 'row' ? [] : p.targets.map((t) => ({ panel: p.title, ...t }))));

  it('the dashboard has unique panel ids and panels inside the 24-column grid', () => {
    const ids = json.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of json.panels) if (p.type !== 'row') expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
  });

  it('every query uses only series the platform exports', async () => {
    const exported = await exportedSeries();
    for (const query of queries) {
      const used = seriesIn(query.expr);
      expect(used.length, `${query.panel}: no series in ${query.expr}`).toBeGreaterThan(0);
      for (const name of used) expect(exported.has(name), `${query.panel}: ${name} is not exported`).toBe(true);
    }
  });

  it('covers request rate and latency, consumer lag, drift, model versions and predictions', () => {
    const all = queries.map((q) => q.expr).join('\n');
    for (const series of [
      'mlops_http_requests_total',
      'mlops_http_request_duration_seconds_bucket',
      'mlops_grpc_server_handled_total',
      'mlops_kafka_consumer_lag',
      'mlops_monitoring_drift_score',
      'mlops_monitoring_drift_share',
      'mlops_model_version',
      'mlops_monitoring_predictions_total',
    ]) {
      expect(all).toContain(series);
    }
  });

  it('queries the provisioned Prometheus data source, and provisioning loads the dashboard folder compose mounts', () => {
    const datasources = z
      .object({ datasources: z.array(z.object({ uid: z.string(), type: z.string(), url: z.string() })) })
      .parse(parse(read('deploy/grafana/provisioning/datasources/datasources.yaml')));
    const prometheusSource = datasources.datasources.find((d) => d.type === 'prometheus');
    expect(prometheusSource?.url).toBe('http://prometheus:9090');
    const variable = json.templating.list.find((v) => v.type === 'datasource');
    expect(variable?.current?.value).toBe(prometheusSource?.uid);
    for (const query of queries) expect([`\${${variable?.name}}`, prometheusSource?.uid]).toContain(query.datasource.uid);

    const providers = z
      .object({ providers: z.array(z.object({ options: z.object({ path: z.string() }) })) })
      .parse(parse(read('deploy/grafana/provisioning/dashboards/dashboards.yaml')));
    const mounts = compose.services.grafana.volumes;
    expect(mounts).toContain(`./deploy/grafana/dashboards:${providers.providers[0].options.path}:ro`);
    expect(mounts).toContain('./deploy/grafana/provisioning:/etc/grafana/provisioning:ro');
  });
});

describe('deploy/otel/collector.yaml', () => {
  const collector = z
    .object({
      receivers: z.object({ otlp: z.object({ protocols: z.object({ http: z.object({ endpoint: z.string() }) }) }) }),
      exporters: z.record(z.string(), z.object({ endpoint: z.string() })),
      service: z.object({ pipelines: z.object({ traces: z.object({ receivers: z.array(z.string()), exporters: z.array(z.string()) }) }) }),
    })
    .parse(parse(read('deploy/otel/collector.yaml')));

  it('receives OTLP/HTTP where the services send it', () => {
    const port = collector.receivers.otlp.protocols.http.endpoint.split(':')[1];
    for (const service of services) {
      expect(compose.services[service].environment.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(`http://otel-collector:${port}`);
    }
  });

  it('exports the traces pipeline to Jaeger over OTLP, with OTLP enabled in Jaeger', () => {
    const { traces } = collector.service.pipelines;
    expect(traces.receivers).toContain('otlp');
    const endpoints = traces.exporters.map((name) => collector.exporters[name]?.endpoint);
    expect(endpoints).toContain('jaeger:4317');
    expect(compose.services.jaeger.environment.COLLECTOR_OTLP_ENABLED).toBe('true');
  });
});

describe('seriesIn', () => {
  it('finds series names and skips functions, label names and grouping keywords', () => {
    expect(seriesIn('sum by (job, le) (rate(a_total{job=~"x",b="c"}[5m])) / max(c_gauge)')).toEqual(['a_total', 'c_gauge']);
    expect(seriesIn('histogram_quantile(0.99, sum by (le) (rate(h_bucket[$__rate_interval]))) > bool 0.5')).toEqual(['h_bucket']);
    expect(seriesIn('up')).toEqual(['up']);
  });
});
