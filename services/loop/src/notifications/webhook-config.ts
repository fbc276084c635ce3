import { z } from 'zod';
import { InvalidInputError } from '@mlops/errors';
import { NOTIFICATION_EVENTS, type NotificationEvent } from './notification-events';

const MODEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export const webhookBody = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL such as https://hooks.example.com/mlops' }).max(2000),
  secret: z.string({ error: 'expected a string of at least 16 characters (the HMAC key of the signature)' }).min(16, 'expected at least 16 characters').max(500),
  events: z
    .array(z.enum(NOTIFICATION_EVENTS, { error: `expected one of ${NOTIFICATION_EVENTS.join(', ')}` }), { error: 'expected a list of events' })
    .min(1, `expected at least one of ${NOTIFICATION_EVENTS.join(', ')}`)
    .transform((events) => [...new Set(events)]),
  model: z.string({ error: 'expected a model name' }).regex(MODEL, "expected 1-200 letters, digits, '.', '_' or '-' (omit it for every model)").optional(),
});

export interface WebhookInput {
  url: string;
  secret: string;
  events: NotificationEvent[];
  model?: string;
}

/** The body of POST /api/webhooks, or an InvalidInputError naming each bad field. */
export function parseWebhook(body: unknown): WebhookInput {
  const result = webhookBody.safeParse(body);
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message }));
    throw InvalidInputError.of(issues, issues.map((i) => `${i.field || '(body)'}: ${i.message}`).join('; '));
  }
  return result.data;
}

const deliveriesQuery = z.object({
  status: z.enum(['pending', 'delivered', 'failed'], { error: 'expected pending, delivered or failed' }).optional(),
  limit: z.coerce.number({ error: 'expected a whole number from 1 to 1000' }).int('expected a whole number from 1 to 1000').min(1).max(1000).default(100),
});

/** The query of GET /api/webhooks/:id/deliveries. */
export function parseDeliveriesQuery(query: unknown): z.output<typeof deliveriesQuery> {
  const result = deliveriesQuery.safeParse(query ?? {});
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message }));
    throw InvalidInputError.of(issues, issues.map((i) => `${i.field || '(query)'}: ${i.message}`).join('; '));
  }
  return result.data;
}
