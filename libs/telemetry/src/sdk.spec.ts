import { context, propagation, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { startTelemetry, type Telemetry } from './sdk';
import { extractTraceContext, injectTraceContext } from './trace-headers';

const CALLER = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

/** traceparent of a span this service starts, as a root or under the caller's context. */
function startedSpan(parent?: string): { traceparent: string; recording: boolean } {
  const parentContext = parent ? extractTraceContext({ traceparent: parent }) : context.active();
  const span = trace.getTracer('sdk-spec').startSpan('work', {}, parentContext);
  const traceparent = injectTraceContext({}, trace.setSpan(parentContext, span)).traceparent;
  const recording = span.isRecording();
  span.end();
  return { traceparent, recording };
}

describe('startTelemetry sampling', () => {
  let telemetry: Telemetry | undefined;
  afterEach(async () => {
    await telemetry?.shutdown();
    telemetry = undefined;
    // The SDK registers global providers; a later start must be able to register its own.
    trace.disable();
    context.disable();
    propagation.disable();
  });

  it('without an endpoint, starts unsampled traces that still carry their context', () => {
    telemetry = startTelemetry('sdk-spec', {});
    const root = startedSpan();
    expect(root.recording).toBe(false);
    expect(root.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    expect(root.traceparent.split('-')[1]).not.toMatch(/^0+$/);
  });

  it("without an endpoint, still follows a caller's sampled trace", () => {
    telemetry = startTelemetry('sdk-spec', {});
    const child = startedSpan(CALLER);
    expect(child.recording).toBe(true);
    expect(child.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    expect(child.traceparent.split('-')[2]).not.toBe('b7ad6b7169203331');
  });

  it('OTEL_TRACES_SAMPLER decides when it is set', () => {
    const saved = process.env.OTEL_TRACES_SAMPLER;
    process.env.OTEL_TRACES_SAMPLER = 'parentbased_always_on';
    try {
      telemetry = startTelemetry('sdk-spec', { OTEL_TRACES_SAMPLER: 'parentbased_always_on' });
      const root = startedSpan();
      expect(root.recording).toBe(true);
      expect(root.traceparent).toMatch(/-01$/);
    } finally {
      if (saved === undefined) delete process.env.OTEL_TRACES_SAMPLER;
      else process.env.OTEL_TRACES_SAMPLER = saved;
    }
  });
});
