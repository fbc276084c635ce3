import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from '../context';

interface View {
  name: string;
  source: string;
}

/** The row count of each feature view the source feeds (none: nothing to wait for). */
export async function viewRowsOf(ctx: Context, source: string): Promise<Map<string, number>> {
  const { featureViews } = await ctx.client.get<{ featureViews: View[] }>('/feature-store/feature-views');
  const rows = new Map<string, number>();
  for (const view of featureViews.filter((v) => v.source === source)) {
    rows.set(view.name, (await ctx.client.get<{ rows: number }>(`/feature-store/feature-views/${encodeURIComponent(view.name)}/rows`)).rows);
  }
  return rows;
}

/**
 * Waits until each view of the source holds `accepted` more rows than `before`: ingestion
 * answers once the records are on the bus, and the feature store applies them a moment later
 * (in distributed mode, from Kafka), so a dataset made at once could miss some. Returns the
 * views that did not catch up within the timeout, with their new rows.
 */
export async function waitForFeatureStore(
  ctx: Context,
  before: Map<string, number>,
  accepted: number,
  timeoutMs: number,
  intervalMs = 250,
): Promise<{ view: string; added: number }[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const behind: { view: string; added: number }[] = [];
    for (const [view, rows] of before) {
      const now = (await ctx.client.get<{ rows: number }>(`/feature-store/feature-views/${encodeURIComponent(view)}/rows`)).rows;
      if (now - rows < accepted) behind.push({ view, added: now - rows });
    }
    if (behind.length === 0 || Date.now() >= deadline) return behind;
    await sleep(intervalMs);
  }
}
