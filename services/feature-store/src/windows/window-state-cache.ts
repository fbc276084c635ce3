import { LRUCache } from 'lru-cache';
import type { FeatureRowTx } from '../offline/feature-row.repository';
import type { FeatureView } from '../views/feature-view';
import { WindowState } from './window-state';

/** Where a missing window state is rebuilt from: the entity's events in its latest window. */
export interface WindowSeedSource {
  /** The entity's stored events with time in (latest - longest window, latest], oldest first. */
  latestWindow(tx: FeatureRowTx, view: FeatureView, entityKey: string): Promise<{ eventTimeMs: number; inputs: Record<string, number | null> }[]>;
}

/**
 * The window states of the entities this process applies events for, rebuilt from the
 * offline store when missing (first event after a start, after an eviction, after a late
 * event). The offline store stays the source of truth: every event's aggregation inputs
 * commit with its row, so a restart loses nothing, it only pays one rebuild per entity.
 * At most `capacity` entities are kept; the least recently used is dropped first (lru-cache:
 * a Map re-inserted on every hit leaves V8 holes that each "oldest key" lookup walks).
 */
export class WindowStateCache {
  private readonly states: LRUCache<string, WindowState>;
  rebuilds = 0;

  constructor(
    private readonly source: WindowSeedSource,
    capacity = 100_000,
  ) {
    this.states = new LRUCache({ max: capacity });
  }

  private static key(view: string, entityKey: string): string {
    return `${view}\u0000${entityKey}`;
  }

  async get(tx: FeatureRowTx, view: FeatureView, entityKey: string): Promise<WindowState> {
    const key = WindowStateCache.key(view.name, entityKey);
    const cached = this.states.get(key);
    if (cached) return cached;
    const state = new WindowState(view);
    for (const e of await this.source.latestWindow(tx, view, entityKey)) state.push(e.eventTimeMs, e.inputs);
    this.rebuilds++;
    this.states.set(key, state);
    return state;
  }

  /** Forgets an entity's state (rebuilt on next use): after a late event or a failed transaction. */
  evict(view: string, entityKey: string): void {
    this.states.delete(WindowStateCache.key(view, entityKey));
  }

  /** Forgets every entity's state of a view: its definition changed. */
  evictView(view: string): void {
    const prefix = WindowStateCache.key(view, '');
    for (const key of [...this.states.keys()]) if (key.startsWith(prefix)) this.states.delete(key);
  }

  get size(): number {
    return this.states.size;
  }
}
