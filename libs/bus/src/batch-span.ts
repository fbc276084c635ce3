import { context, SpanKind, trace, type Link } from '@opentelemetry/api';
import { extractTraceContext, inSpan } from '@mlops/telemetry';
import type { IncomingMessage } from './transport';

/** OpenTelemetry's default limit of links per span; links past it would be dropped anyway. */
const MAX_LINKS = 128;

/**
 * Runs a batch handler in one CONSUMER span `process <topic>` linked to the producer
 * context of each message (up to 128), as OpenTelemetry's messaging conventions do for
 * batches: a batch has no single parent, so the span starts its own trace.
 */
export async function withBatchConsumerSpan<T>(
  topic: string,
  group: string,
  messages: IncomingMessage[],
  work: () => Promise<T>,
): Promise<T> {
  const links: Link[] = [];
  for (const message of messages) {
    if (links.length >= MAX_LINKS) break;
    const producer = trace.getSpanContext(extractTraceContext(message.headers));
    if (producer && trace.isSpanContextValid(producer)) links.push({ context: producer });
  }
  const span = trace.getTracer('@mlops/bus').startSpan(
    `process ${topic}`,
    {
      kind: SpanKind.CONSUMER,
      root: true,
      links,
      attributes: {
        'messaging.destination.name': topic,
        'messaging.consumer.group.name': group,
        'messaging.batch.message_count': messages.length,
      },
    },
  );
  return inSpan(span, context.active(), work);
}
