import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

// Set once so headers carry `traceparent` even where the SDK is not started (tests, tools).
propagation.setGlobalPropagator(new W3CTraceContextPropagator());

const tracer = () => trace.getTracer('@mlops/bus');

export type Headers = Record<string, string>;

/** Writes the active trace context (W3C `traceparent`/`tracestate`) into message headers. */
export function injectTraceContext(headers: Headers, from: Context = context.active()): Headers {
  propagation.inject(from, headers);
  return headers;
}

/** The trace context a producer wrote into the headers, or the active one if none. */
export function extractTraceContext(headers: Headers): Context {
  return propagation.extract(context.active(), headers);
}

/** Runs `work` with `span` active under `parent`; records a failure on the span; ends it. */
export async function inSpan<T>(span: Span, parent: Context, work: () => Promise<T>): Promise<T> {
  try {
    return await context.with(trace.setSpan(parent, span), work);
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    throw error;
  } finally {
    span.end();
  }
}

/** Runs `work` in a PRODUCER span; the headers it gets carry that span's context. */
export function withProducerSpan<T>(
  topic: string,
  work: (headers: Headers) => Promise<T>,
): Promise<T> {
  const parent = context.active();
  const span = tracer().startSpan(
    `publish ${topic}`,
    { kind: SpanKind.PRODUCER, attributes: { 'messaging.destination.name': topic } },
    parent,
  );
  return inSpan(span, parent, () => work(injectTraceContext({}, trace.setSpan(parent, span))));
}

/** Runs a message handler in a CONSUMER span that continues the producer's trace. */
export function withConsumerSpan<T>(
  topic: string,
  group: string,
  headers: Headers,
  work: () => Promise<T>,
): Promise<T> {
  const parent = extractTraceContext(headers);
  const span = tracer().startSpan(
    `process ${topic}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: { 'messaging.destination.name': topic, 'messaging.consumer.group.name': group },
    },
    parent,
  );
  return inSpan(span, parent, work);
}

/**
 * Runs a request handler in a SERVER span that continues the caller's trace when the request
 * carries `traceparent` (HTTP headers or gRPC metadata), else starts a new trace.
 */
export function withServerSpan<T>(
  name: string,
  carrier: Headers,
  attributes: Record<string, string | number>,
  work: () => Promise<T>,
): Promise<T> {
  const parent = extractTraceContext(carrier);
  const span = tracer().startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
  return inSpan(span, parent, work);
}
