import { PeriodicTask } from './periodic-task';

describe('PeriodicTask', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs at each interval, never two runs at once, and logs a failed run without stopping', async () => {
    const errors: string[] = [];
    let runs = 0;
    let release!: () => void;
    const task = new PeriodicTask('poll', () => {
      runs++;
      if (runs === 2) return Promise.reject(new Error('database away'));
      return new Promise<void>((done) => (release = done));
    }, { error: (m) => errors.push(m) });
    task.start(100, { runNow: true });
    expect(runs).toBe(1);
    // The first run is still under way: three ticks start nothing.
    await vi.advanceTimersByTimeAsync(300);
    expect(runs).toBe(1);
    release();
    await vi.advanceTimersByTimeAsync(100);
    expect(runs).toBe(2);
    expect(errors).toEqual(['poll failed: database away']);
    await vi.advanceTimersByTimeAsync(100);
    expect(runs).toBe(3);
    release();
    await task.stop();
    await vi.advanceTimersByTimeAsync(500);
    expect(runs).toBe(3);
  });

  it('stop() waits for the run under way', async () => {
    let finished = false;
    const task = new PeriodicTask('sweep', async () => {
      await new Promise((done) => setTimeout(done, 50));
      finished = true;
    }, { error: () => undefined });
    task.start(1000, { runNow: true });
    const stopped = task.stop();
    await vi.advanceTimersByTimeAsync(50);
    await stopped;
    expect(finished).toBe(true);
  });
});
