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
