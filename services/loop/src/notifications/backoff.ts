/**
 * Retries of a failed delivery: LOOP_WEBHOOK_RETRY_BASE_MS after the first attempt, doubling
 * after each next one up to LOOP_WEBHOOK_RETRY_MAX_MS.
 */
export interface Backoff {
  retryBaseMs: number;
  retryMaxMs: number;
  maxAttempts: number;
}

/** How long to wait after failed attempt number `attempts` (1-based); undefined when no attempt is left. */
export function retryDelay(backoff: Backoff, attempts: number): number | undefined {
  if (attempts >= backoff.maxAttempts) return undefined;
  return Math.min(backoff.retryMaxMs, backoff.retryBaseMs * 2 ** (attempts - 1));
}
