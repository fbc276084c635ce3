import { PendingPredictions } from './pending-predictions';

const outcome = { kind: 'classification' as const, predicted: '1' };

describe('predictions waiting for labels', () => {
  it('keeps at most `max`, evicting the oldest and counting them as unlabelled', () => {
    let now = 0;
    const pending = new PendingPredictions({ max: 3, ttlMs: 1_000_000, now: () => now });
    for (let i = 0; i < 5; i++) pending.add(`p${i}`, { model: 'm', version: 1, outcome, at: now++ });
    expect(pending.size).toBe(3);
    expect(pending.evictedUnlabelled).toBe(2);
    expect(pending.get('p0')).toBeUndefined();
    expect(pending.get('p1')).toBeUndefined();
    expect(pending.get('p4')?.version).toBe(1);
  });

  it('forgets predictions older than the TTL, at lookup and at the next insert', () => {
    let now = 0;
    const pending = new PendingPredictions({ max: 100, ttlMs: 1_000, now: () => now });
    pending.add('old', { model: 'm', version: 1, outcome, at: now });
    now = 1_500;
    expect(pending.get('old')).toBeUndefined();
    pending.add('new', { model: 'm', version: 1, outcome, at: now });
    expect(pending.size).toBe(1);
    expect(pending.evictedUnlabelled).toBe(1);
  });

  it('removes a prediction once its label is counted; a removed one is not counted as evicted', () => {
    const pending = new PendingPredictions({ max: 1, ttlMs: 1_000, now: () => 0 });
    pending.add('a', { model: 'm', version: 1, outcome, at: 0 });
    pending.remove('a');
    pending.add('b', { model: 'm', version: 1, outcome, at: 0 });
    expect(pending.evictedUnlabelled).toBe(0);
  });
});

/** The former Map-based implementation: the same behaviour, slow at the bound (see the class). */
class MapReference {
  readonly entries = new Map<string, { at: number }>();
  evicted = 0;
  constructor(private readonly max: number, private readonly ttlMs: number, private readonly now: () => number) {}
  add(id: string, at: number): void {
    this.entries.delete(id);
    this.entries.set(id, { at });
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.max && entry.at >= at - this.ttlMs) break;
      this.entries.delete(key);
      this.evicted++;
    }
  }
  get(id: string): { at: number } | undefined {
    const entry = this.entries.get(id);
    return entry && this.now() - entry.at > this.ttlMs ? undefined : entry;
  }
}

describe('predictions waiting for labels, against the Map-based reference', () => {
  it('agrees on size, evictions and lookups over 20,000 random adds, lookups and removals', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    let now = 0;
    const pending = new PendingPredictions({ max: 50, ttlMs: 400, now: () => now });
    const reference = new MapReference(50, 400, () => now);
    for (let i = 0; i < 20_000; i++) {
      now += Math.floor(random() * 10);
      const id = `p${Math.floor(random() * 300)}`;
      const op = random();
      if (op < 0.6) {
        pending.add(id, { model: 'm', version: 1, outcome, at: now });
        reference.add(id, now);
      } else if (op < 0.8) {
        pending.remove(id);
        reference.entries.delete(id);
      } else {
        expect(pending.get(id)?.at).toBe(reference.get(id)?.at);
      }
      expect(pending.size).toBe(reference.entries.size);
      expect(pending.evictedUnlabelled).toBe(reference.evicted);
    }
    expect(reference.evicted).toBeGreaterThan(1000);
  });
});
