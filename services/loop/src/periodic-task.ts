/**
 * Runs `work` every `intervalMs` while started (and once at start when asked), never two runs
 * at once: a tick that comes while a run is under way is skipped. A failed run is logged as
 * `<what> failed: <message>` and the next tick runs again. stop() clears the timer and waits
 * for a run under way, so it ends before what the run uses (the database) closes.
 */
export class PeriodicTask {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly what: string,
    private readonly work: () => Promise<unknown>,
    private readonly log: { error(message: string): void },
  ) {}

  start(intervalMs: number, options: { runNow?: boolean } = {}): void {
    if (options.runNow) this.run();
    this.timer = setInterval(() => this.run(), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private run(): void {
    this.running ??= this.work()
      .catch((error: Error) => this.log.error(`${this.what} failed: ${error.message}`))
      .finally(() => (this.running = undefined));
  }
}
