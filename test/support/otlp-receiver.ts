import { createServer, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { waitFor } from './wait-for';

/** One span as received over OTLP/HTTP (JSON encoding), with the service that sent it. */
export interface ReceivedSpan {
  service: string;
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Record<string, unknown>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpExport {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: { spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: OtlpAttribute[] }[] }[];
  }[];
}

const valueOf = (v: OtlpValue) => v.stringValue ?? v.intValue ?? v.doubleValue ?? v.boolValue;
const attributesOf = (list: OtlpAttribute[] = []) => Object.fromEntries(list.map((a) => [a.key, valueOf(a.value)]));

/**
 * A real OTLP/HTTP trace receiver on loopback: services export to it with
 * OTEL_EXPORTER_OTLP_ENDPOINT=<url>, as they would to a collector. It accepts the JSON
 * encoding (what @opentelemetry/exporter-trace-otlp-http sends) and refuses protobuf.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  private server?: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        if (request.method !== 'POST' || request.url !== '/v1/traces') return void response.writeHead(404).end();
        if (!String(request.headers['content-type']).includes('json')) return void response.writeHead(415).end();
        let body = Buffer.concat(chunks);
        if (request.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        this.collect(JSON.parse(body.toString()) as OtlpExport);
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((done) => this.server!.listen(0, '127.0.0.1', done));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  private collect(payload: OtlpExport): void {
    for (const resourceSpans of payload.resourceSpans ?? []) {
      const service = String(attributesOf(resourceSpans.resource?.attributes)['service.name']);
      for (const scope of resourceSpans.scopeSpans ?? []) {
        for (const s of scope.spans ?? []) {
          this.spans.push({ service, name: s.name, kind: s.kind, traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId || undefined, attributes: attributesOf(s.attributes) });
        }
      }
    }
  }

  /** The spans of one trace, parent links resolvable within it. */
  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  /**
   * Waits until every named span of the trace has arrived and returns them in that order.
   * Each process exports its spans in batches of its own, so a consumer's span can arrive
   * before the span of the producer that caused it.
   */
  async waitForSpans(traceId: string, wanted: readonly { service: string; name: string }[], timeoutMs: number): Promise<ReceivedSpan[]> {
    const names = wanted.map((w) => `${w.service} "${w.name}"`).join(', ');
    return waitFor(() => {
      const trace = this.trace(traceId);
      const found = wanted.map((w) => trace.find((s) => s.service === w.service && s.name === w.name));
      return found.every((s) => s !== undefined) ? (found as ReceivedSpan[]) : undefined;
    }, `${names} in trace ${traceId}`, timeoutMs).catch((error: Error) => {
      const received = this.trace(traceId).map((s) => `${s.service} "${s.name}" ${s.spanId} <- ${s.parentSpanId}`);
      throw new Error(`${error.message}; received: ${received.join('; ') || 'none'}`);
    });
  }

  async stop(): Promise<void> {
    await new Promise((done) => this.server?.close(done));
  }
}

/** OTLP span kinds (opentelemetry-proto SpanKind). */
export const SPAN_KIND = { SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;
