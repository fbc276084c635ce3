import type { EventBus, Subscription } from '@mlops/bus';
import { rawTopic, sourceOfRawTopic } from '@mlops/contracts';
import type { IngestionService } from './ingestion.service';

/**
 * Consumes `raw.<source>` for every source with a contract. A consumer's topic list is fixed
 * once it runs, so a new source restarts the subscription (positions are kept by the group).
 *
 * Every (re)subscription runs after the previous one has finished, the first included: the
 * HTTP API is up before the first subscription has joined its group, and a contract
 * registered in that window used to start a second subscription beside it. Two live
 * subscriptions share one group and one transactional id, so each fenced the other's
 * producer on every batch and neither made progress.
 */
export class RawConsumer {
  private subscription?: Subscription;
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly service: IngestionService,
    private readonly bus: EventBus,
    private readonly group: string,
    private readonly log: { log(message: string): void; error(message: string): void },
  ) {}

  async start(): Promise<void> {
    this.service.onSourcesChanged(() => {
      void this.enqueue(() => this.resubscribe()).catch((e) => this.log.error(`raw consumer restart failed: ${e.message}`));
    });
    await this.enqueue(() => this.resubscribe());
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const run = this.queue.catch(() => undefined).then(step);
    this.queue = run;
    return run;
  }

  private async resubscribe(): Promise<void> {
    if (this.stopped) return;
    await this.subscription?.stop();
    this.subscription = undefined;
    const topics = this.service.sources().map(rawTopic);
    if (topics.length === 0) return;
    this.subscription = await this.bus.subscribe({
      group: this.group,
      topics,
      handle: async (message, ctx) => {
        const source = sourceOfRawTopic(message.topic)!;
        ctx.publish(this.service.eventForRawMessage(source, message.value, `${message.topic}:${message.partition}:${message.offset}`));
      },
    });
    this.log.log(`consuming ${topics.join(', ')} as group ${this.group}`);
  }

  async stop(): Promise<void> {
    await this.enqueue(async () => {
      this.stopped = true;
      await this.subscription?.stop();
      this.subscription = undefined;
    });
  }
}
