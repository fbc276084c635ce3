import type { EntityManager } from 'typeorm';
import { parseFeatureViews } from '../views/feature-view';
import { KeyedQueue } from './keyed-queue';
import { WindowStateCache, type WindowSeedSource } from './window-state-cache';

const [view] = parseFeatureViews(`
featureViews:
  - name: v
    source: s
    entityKey: user
    timestampField: ts
    aggregations: [{ name: total, function: sum, field: amount, window: 1h }]
`);
const manager = {} as EntityManager;

describe('window state cache', () => {
  it('rebuilds a missing entity from its latest window, keeps at most `capacity` entities (least recently used out)', async () => {
    const seeded: string[] = [];
    const source: WindowSeedSource = {
      latestWindow: async (_m, _v, entityKey) => {
        seeded.push(entityKey);
        return [{ eventTimeMs: 1_000, inputs: { amount: entityKey.length } }];
      },
    };
    const cache = new WindowStateCache(source, 2);
    const a = await cache.get(manager, view, 'a');
    expect(a.latestMs).toBe(1_000);
    expect(a.valuesAt(1_000)).toEqual({ total: 1 });
    expect(await cache.get(manager, view, 'a')).toBe(a);
    await cache.get(manager, view, 'bb');
    await cache.get(manager, view, 'a'); // a is now the most recently used
    await cache.get(manager, view, 'ccc'); // evicts bb
    expect(cache.size).toBe(2);
    expect(await cache.get(manager, view, 'a')).toBe(a);
    await cache.get(manager, view, 'bb');
    cache.evict('v', 'a');
    expect(await cache.get(manager, view, 'a')).not.toBe(a);
    expect(seeded).toEqual(['a', 'bb', 'ccc', 'bb', 'a']);
    expect(cache.rebuilds).toBe(5);
  });
});

describe('keyed queue', () => {
  it('runs the tasks of one key one after another, other keys alongside, and survives a failed task', async () => {
    const queue = new KeyedQueue();
    const log: string[] = [];
    const task = (name: string, ms: number, fail = false) => async () => {
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${name}`);
      if (fail) throw new Error(name);
      return name;
    };
    const results = await Promise.allSettled([queue.run('k', task('k1', 20, true)), queue.run('k', task('k2', 1)), queue.run('j', task('j1', 1))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    expect(log.indexOf('start k2')).toBeGreaterThan(log.indexOf('end k1'));
    expect(log.indexOf('start j1')).toBeLessThan(log.indexOf('end k1'));
  });
});
