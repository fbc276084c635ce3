import type { ModelRepository } from './model-repository';
import { silentLogger } from './serving.logger';
import { WarmStandby } from './warm-standby';

/** The part of ModelRepository a standby uses: routes and unloads, recorded. */
function fakeRepository(stable: number) {
  const unloaded: number[] = [];
  const repository = { route: () => ({ stable }), unload: (_name: string, version: number) => void unloaded.push(version) };
  return { repository: repository as unknown as ModelRepository, unloaded, setStable: (v: number) => (stable = v) };
}

describe('blue-green warm standby', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('unloads the previous version once the keep period is over', () => {
    const { repository, unloaded } = fakeRepository(2);
    const standby = new WarmStandby(repository, silentLogger, 60_000);
    standby.keep('m', 1);
    vi.advanceTimersByTime(59_999);
    expect(unloaded).toEqual([]);
    expect(standby.version('m')).toBe(1);
    vi.advanceTimersByTime(1);
    expect(unloaded).toEqual([1]);
    expect(standby.version('m')).toBeUndefined();
  });

  it('a version restored by a rollback is no standby any more: it is never unloaded by the timer', () => {
    const { repository, unloaded, setStable } = fakeRepository(2);
    const standby = new WarmStandby(repository, silentLogger, 60_000);
    standby.keep('m', 1);
    setStable(1);
    expect(standby.restored('m', 2)).toBe(false);
    expect(standby.restored('m', 1)).toBe(true);
    vi.advanceTimersByTime(120_000);
    expect(unloaded).toEqual([]);
  });

  it('a newer switch replaces the standby: the older one is unloaded at once', () => {
    const { repository, unloaded, setStable } = fakeRepository(2);
    const standby = new WarmStandby(repository, silentLogger, 60_000);
    standby.keep('m', 1);
    setStable(3);
    standby.keep('m', 2);
    expect(unloaded).toEqual([1]);
    vi.advanceTimersByTime(60_000);
    expect(unloaded).toEqual([1, 2]);
  });
});
