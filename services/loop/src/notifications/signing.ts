import { createHmac, timingSafeEqual } from 'node:crypto';

/** The headers of a delivery, named like MLflow 3's webhook headers with the platform's prefix. */
export const SIGNATURE_HEADER = 'x-mlops-signature';
export const DELIVERY_ID_HEADER = 'x-mlops-delivery-id';
export const TIMESTAMP_HEADER = 'x-mlops-timestamp';

/**
 * MLflow's scheme (mlflow/webhooks/delivery.py): `v1,` and the base64 HMAC-SHA256, keyed by
 * the webhook's secret, of `<delivery id>.<unix seconds>.<raw body>`. The delivery id and
 * timestamp are signed so a receiver can refuse a replay (old timestamp, seen delivery id).
 */
export function signature(secret: string, deliveryId: string, timestamp: string, body: string): string {
  return `v1,${createHmac('sha256', secret).update(`${deliveryId}.${timestamp}.${body}`).digest('base64')}`;
}

/** The headers of one attempt of a delivery sent at `nowMs`. */
export function signedHeaders(secret: string, deliveryId: string, nowMs: number, body: string): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  return {
    'content-type': 'application/json',
    [DELIVERY_ID_HEADER]: deliveryId,
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_HEADER]: signature(secret, deliveryId, timestamp, body),
  };
}

/** What a receiver does (constant-time compare); the README shows the same in a few lines. */
export function verifySignature(secret: string, deliveryId: string, timestamp: string, body: string, header: string): boolean {
  const expected = Buffer.from(signature(secret, deliveryId, timestamp, body));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
