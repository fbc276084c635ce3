import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { AlwaysOffSampler, NoopSpanProcessor, ParentBasedSampler } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

export interface Telemetry {
  shutdown(): Promise<void>;
}

/**
 * Starts tracing for one service. Spans are exported over OTLP/HTTP only when
 * OTEL_EXPORTER_OTLP_ENDPOINT (or the traces-specific variable) is set. Without an endpoint,
 * trace context still flows through gRPC metadata and Kafka headers, but a trace this
 * service starts is not sampled (traceparent flags 00): recording spans that nobody exports
 * cost the serving hot path ~10-15 µs per call. A caller's sampled trace is still followed
 * (parent-based), and OTEL_TRACES_SAMPLER, when set, decides instead.
 */
export function startTelemetry(serviceName: string, env: NodeJS.ProcessEnv = process.env): Telemetry {
  const exporting = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME ?? serviceName }),
    // Without an endpoint, the no-op processor keeps the SDK from defaulting to an OTLP exporter.
    ...(exporting ? { traceExporter: new OTLPTraceExporter() } : { spanProcessors: [new NoopSpanProcessor()] }),
    ...(exporting || env.OTEL_TRACES_SAMPLER ? {} : { sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }) }),
    instrumentations: [],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
