import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** API_TOKEN: when set, HTTP and gRPC APIs require `Bearer <API_TOKEN>` (probes and /metrics stay open). */
export const apiTokenEnvSchema = z.object({
  API_TOKEN: z.string().min(16, 'expected at least 16 characters').optional(),
});

/** Compares two secrets in time independent of where they differ (digests first, so lengths leak nothing). */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
