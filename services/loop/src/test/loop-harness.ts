import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus, InProcessTransport, type Subscription } from '@mlops/bus';
import { createEvent, decodeEvent, type AnyEvent, type EventEnvelope } from '@mlops/contracts';
import { startLoop, type LoopApp } from '../loop.app';
import { loadLoopConfig } from '../loop.config';

type StartOptions = Omit<NonNullable<Parameters<typeof startLoop>[1]>, 'inProcess' | 'logger' | 'defaultMetrics'>;

/**
 * The loop controller as its in-process specs drive it: the production app on an in-process
 * bus and a SQLite file in a temporary directory, real HTTP, and an observer collecting the
 * retrain.requested it publishes. `restart` starts it again on the same file and bus.
 */
export class LoopHarness {
  readonly retrains: EventEnvelope<'retrain.requested'>[] = [];
  private transport = new InProcessTransport();
  /** Publishes the events a spec feeds the loop; the same bus the loop consumes. */
  bus = new EventBus(this.transport);
  private app?: LoopApp;
  private subscription?: Subscription;

  private constructor(
    readonly dir: string,
    private readonly env: Record<string, string>,
    private readonly options: StartOptions,
  ) {}

  /** `env` on top of an in-process bus, `sqlite:<dir>/loop.db` and a free port. */
  static async start(name: string, env: Record<string, string>, options: StartOptions = {}): Promise<LoopHarness> {
    const harness = new LoopHarness(mkdtempSync(join(tmpdir(), `${name}-`)), env, options);
    await harness.restart();
    await harness.observe();
    return harness;
  }

  private async observe(): Promise<void> {
    this.subscription = await this.bus.subscribe({
      group: 'observer',
      topics: ['retrain.requested'],
      handle: async (message) => {
        const event = decodeEvent(message.value);
        if (event.type === 'retrain.requested') this.retrains.push(event);
      },
    });
  }

  get loop(): LoopApp {
    if (!this.app) throw new Error('the loop controller is not running');
    return this.app;
  }

  /**
   * Stops the running loop controller, if any, and starts a new one on the same file; on the
   * same bus, or with `emptyBus` on a new one, so that whatever it knows comes from its database.
   */
  async restart(options: { emptyBus?: boolean } = {}): Promise<void> {
    await this.app?.close();
    this.app = undefined;
    if (options.emptyBus) {
      await this.subscription?.stop();
      this.transport = new InProcessTransport();
      this.bus = new EventBus(this.transport);
    }
    const config = loadLoopConfig({ BUS: 'in-process', DATABASE_URL: `sqlite:${join(this.dir, 'loop.db')}`, LOOP_PORT: '0', ...this.env });
    this.app = await startLoop(config, { ...this.options, inProcess: this.transport, logger: false, defaultMetrics: false });
    if (options.emptyBus) await this.observe();
  }

  /** An HTTP call to the loop's API; the body parsed as JSON (any: specs read what they assert). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, any> }> {
    const response = await fetch(`${this.loop.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  }

  async close(): Promise<void> {
    await this.subscription?.stop();
    await this.app?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A drift.detected of `model` v1 on feature f0 at `time`, in loop `correlationId`. */
export function driftOf(model: string, correlationId: string, time: Date): AnyEvent {
  return createEvent('drift.detected', {
    source: 'test',
    subject: model,
    correlationId,
    time,
    data: {
      model,
      version: 1,
      window: { start: new Date(time.getTime() - 1000).toISOString(), end: time.toISOString(), size: 300 },
      datasetDrift: { share: 1, threshold: 0.5 },
      features: [{ feature: 'f0', statistic: 'ks', value: 0.5, threshold: 0.05, drifted: true }],
    },
  }) as AnyEvent;
}
