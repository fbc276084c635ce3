/** Retries of a failed delivery: LOOP_WEBHOOK_RETRY_BASE_MS after the first attempt, doubling after each next one. */
export interface Backoff {
  retryBaseMs: number;
  maxAttempts: number;
}

/** How long to wait after failed attempt number `attempts` (1-based); undefined when no attempt is left. */
export function retryDelay(backoff: Backoff, attempts: number): number | undefined {
  if (attempts >= backoff.maxAttempts) return undefined;
  return backoff.retryBaseMs * 2 ** (attempts - 1);
}
