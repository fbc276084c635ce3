import { Injectable, Logger } from '@nestjs/common';
import { EventBus } from '@mlops/bus';
import { createEvent } from '@mlops/contracts';
import { TooLargeError } from '@mlops/errors';
import { z } from 'zod';
import { invalidRequest } from '../invalid-request';

/** Labels one POST /labels takes; a larger batch is refused whole (send several). */
export const MAX_LABELS_PER_REQUEST = 10_000;
/** label.observed events per produce request: 10,000 at once would pass the broker's 1 MB request limit. */
const PUBLISH_CHUNK = 1_000;

const labelItem = z
  .object({
    predictionId: z.string().min(1, 'expected the prediction id serving returned (`<request id>:<row>`)'),
    label: z.union([z.number(), z.string().min(1)], { message: 'expected a number or a non-empty string' }),
    model: z.string().min(1).max(200, 'expected a model name of at most 200 characters').optional(),
    observedAt: z.iso.datetime({ offset: true, message: 'expected an ISO 8601 time, e.g. 2026-01-01T12:00:00Z' }).optional(),
  })
  .strict();

const labelsBody = z.object({ labels: z.array(z.unknown()).min(1, 'expected at least one label') }).strict();

/**
 * Labels over HTTP: the same label.observed events a Kafka producer sends, one per label,
 * published only when every item is valid (a bad item is named by its index and field).
 */
@Injectable()
export class LabelIntake {
  private readonly log = new Logger('monitoring');

  constructor(private readonly bus: EventBus) {}

  async accept(body: unknown): Promise<{ accepted: number }> {
    const outer = labelsBody.safeParse(body);
    if (!outer.success) throw invalidRequest(outer.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })));
    const items = outer.data.labels;
    if (items.length > MAX_LABELS_PER_REQUEST) {
      throw new TooLargeError(`labels: ${items.length} labels is over the ${MAX_LABELS_PER_REQUEST} a request takes; send them in several requests`);
    }
    const issues = items.flatMap((item, index) => {
      const parsed = labelItem.safeParse(item);
      return parsed.success ? [] : parsed.error.issues.map((i) => ({ field: ['labels', index, ...i.path].join('.'), message: i.message }));
    });
    if (issues.length) throw invalidRequest(issues);
    const events = items.map((item) => {
      const { predictionId, label, model, observedAt } = labelItem.parse(item);
      return createEvent('label.observed', {
        source: 'monitoring-http',
        subject: model ?? predictionId,
        time: observedAt ? new Date(observedAt) : undefined,
        data: { predictionId, label, ...(model ? { model } : {}) },
      });
    });
    for (let i = 0; i < events.length; i += PUBLISH_CHUNK) await this.bus.publish(events.slice(i, i + PUBLISH_CHUNK));
    this.log.log(`accepted ${events.length} labels over HTTP (label.observed)`);
    return { accepted: events.length };
  }
}
