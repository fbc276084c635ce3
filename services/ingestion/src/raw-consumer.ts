import type { EventBus, Subscription } from '@mlops/bus';
import { rawTopic, sourceOfRawTopic } from '@mlops/contracts';
import type { IngestionService } from './ingestion.service';

/**
 * Consumes `raw.<source>` for every source with a contract. A consumer's topic list is fixed
 * once it runs, so a new source restarts the subscription (positions are kept by the group).
 */
export class RawConsumer {
  private subscription?: Subscription;
  private restarting: Promise<void> = Promise.resolve();

  constructor(
    private readonly service: IngestionService,
    private readonly bus: EventBus,
    private readonly group: string,
    private readonly log: { log(message: string): void; error(message: string): void },
  ) {}

  async start(): Promise<void> {
    this.service.onSourcesChanged(() => {
      this.restarting = this.restarting.then(() => this.resubscribe()).catch((e) => this.log.error(`raw consumer restart failed: ${e.message}`));
    });
    await this.resubscribe();
  }

  private async resubscribe(): Promise<void> {
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
    await this.restarting;
    await this.subscription?.stop();
  }
}
