import type { OnlineRow, OnlineStore } from './online-store';

/** The embedded online store: a map per view in this process. */
export class MemoryOnlineStore implements OnlineStore {
  readonly kind = 'memory';
  private readonly views = new Map<string, Map<string, OnlineRow>>();

  async put(view: string, entityKey: string, row: OnlineRow): Promise<boolean> {
    let rows = this.views.get(view);
    if (!rows) this.views.set(view, (rows = new Map()));
    const current = rows.get(entityKey);
    if (current && current.eventTimeMs > row.eventTimeMs) return false;
    rows.set(entityKey, { eventTimeMs: row.eventTimeMs, values: { ...row.values } });
    return true;
  }

  async get(view: string, entityKeys: string[]): Promise<(OnlineRow | undefined)[]> {
    const rows = this.views.get(view);
    return entityKeys.map((k) => {
      const row = rows?.get(k);
      return row && { eventTimeMs: row.eventTimeMs, values: { ...row.values } };
    });
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.views.clear();
  }
}
