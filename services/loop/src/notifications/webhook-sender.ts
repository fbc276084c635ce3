/** The outcome of one attempt: a status code, or the error that left none (timeout, refused connection). */
export interface AttemptResult {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
}

/** POSTs one signed body; a 2xx answer is a delivery, anything else (or none within the timeout) a failure. */
export async function postWebhook(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<AttemptResult> {
  try {
    const response = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    // The receiver's body is not needed; reading it frees the connection.
    const text = await response.text().catch(() => '');
    if (response.ok) return { ok: true, statusCode: response.status, error: null };
    return { ok: false, statusCode: response.status, error: `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}` };
  } catch (error) {
    const e = error as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError') return { ok: false, statusCode: null, error: `no answer within ${timeoutMs} ms (LOOP_WEBHOOK_TIMEOUT_MS)` };
    const cause = e.cause?.code ? `${e.cause.code}: ${e.cause.message}` : e.cause?.message;
    return { ok: false, statusCode: null, error: cause ? `${e.message} (${cause})` : e.message };
  }
}
