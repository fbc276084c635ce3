import { Inject, Injectable } from '@nestjs/common';
import { EventBus, type IncomingMessage, type Subscription } from '@mlops/bus';
import { rawTopic, sourceOfRawTopic } from '@mlops/contracts';
import { IngestionService } from './ingestion.service';
import { oversizeRawIssue } from './records/record-size';
import { INGESTION_LOG, INGESTION_SETTINGS, type IngestionLog, type IngestionSettings } from './ingestion.settings';

const positionOf = (m: IncomingMessage) => `${m.topic}:${m.partition}:${m.offset}`;

/**
 * Consumes `raw.<source>` for every source with a contract. A consumer's topic list is fixed
 * once it runs, so a new source restarts the subscription (positions are kept by the group).
 * Raw topics carry any producer's JSON records, not events, so this is a plain bus
 * subscription rather than an `@OnEvent` handler; startIngestion starts it once the HTTP
 * API listens and stops it first on close.
 *
 * Every (re)subscription runs after the previous one has finished, the first included: the
 * HTTP API is up before the first subscription has joined its group, and a contract
 * registered in that window used to start a second subscription beside it. Two live
 * subscriptions share one group and one transactional id, so each fenced the other's
 * producer on every batch and neither made progress.
 */
@Injectable()
export class RawConsumer {
  private subscription?: Subscription;
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly group: string;

  constructor(
    private readonly service: IngestionService,
    private readonly bus: EventBus,
    @Inject(INGESTION_SETTINGS) settings: Pick<IngestionSettings, 'raw'>,
    @Inject(INGESTION_LOG) private readonly log: IngestionLog,
  ) {
    this.group = settings.raw.group;
  }

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
        const { key, headers } = message;
        ctx.publish(this.service.eventForRawMessage(source, message.value, { position: positionOf(message), key, headers }));
      },
      // A record or key over the bus limits is rejected unread, naming the limit.
      onOversize: async (message, over, ctx) => {
        const source = sourceOfRawTopic(message.topic)!;
        this.log.log(`${positionOf(message)} rejected unread: ${over.reason}`);
        ctx.publish(this.service.rejectedUnread(source, message.value, positionOf(message), oversizeRawIssue(over)));
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
