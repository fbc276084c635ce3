import { Logger } from '@nestjs/common';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import type { EventBus, Subscription } from '@mlops/bus';
import type { AnyEvent, EventEnvelope, EventType } from '@mlops/contracts';
import {
  BusBatchContext,
  BusContext,
  type BusHandlerExtras,
  type BusPattern,
  type Published,
} from './bus-handler.decorators';

export interface BusGroupOptions {
  /** At most this many events per batch handler call (the bus's default otherwise). */
  maxBatchSize?: number;
  /** Where the group starts when it has no committed position (default: the earliest). */
  fromBeginning?: boolean;
}

export interface BusServerOptions {
  /** The service's consumer group; `@OnEvent(..., { group: 'x' })` reads in `<group>.x`. */
  group: string;
  /** Per group suffix ('' for the service's group). */
  groups?: Record<string, BusGroupOptions>;
}

interface GroupHandlers {
  suffix: string;
  name: string;
  batch: boolean;
  byType: Map<EventType, MessageHandler>;
}

/**
 * The Nest microservice transport over our EventBus: the handlers a service declares with
 * `@OnEvent`/`@OnEventBatch` become one bus subscription per consumer group, so the bus
 * keeps doing what it does (ack after success, retries, the outage rule, DLQ with reasons,
 * Kafka transactions, batches, trace context) and the handlers only see typed events.
 */
export class BusServer extends Server implements CustomTransportStrategy {
  private subscriptions: Subscription[] = [];
  private closing?: Promise<void>;
  protected override readonly logger = new Logger('BusServer');

  constructor(
    private readonly bus: EventBus,
    private readonly options: BusServerOptions,
  ) {
    super();
  }

  /** The consumer groups this server subscribes, with their event types (for logs and tests). */
  groups(): { group: string; batch: boolean; types: EventType[] }[] {
    return this.handlersByGroup().map((g) => ({ group: g.name, batch: g.batch, types: [...g.byType.keys()] }));
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      for (const group of this.handlersByGroup()) this.subscriptions.push(await this.subscribe(group));
      callback();
    } catch (error) {
      callback(error);
    }
  }

  /** Stops every subscription (idempotent: Nest and the service's own close may both call it). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const subscription of this.subscriptions.splice(0)) await subscription.stop();
    })();
    return this.closing;
  }

  on(): never {
    throw new Error('BusServer has no events to listen to');
  }

  unwrap<T>(): T {
    return this.bus as T;
  }

  private handlersByGroup(): GroupHandlers[] {
    const groups = new Map<string, GroupHandlers>();
    for (const [route, handler] of this.messageHandlers) {
      const pattern = JSON.parse(route) as BusPattern;
      const batch = (handler.extras as BusHandlerExtras | undefined)?.batch ?? false;
      const name = pattern.group ? `${this.options.group}.${pattern.group}` : this.options.group;
      const group = groups.get(pattern.group) ?? { suffix: pattern.group, name, batch, byType: new Map() };
      if (group.batch !== batch) throw new Error(`consumer group ${name} mixes batch and single-event handlers`);
      if (handler.next) throw new Error(`${pattern.event} has two handlers in consumer group ${name}`);
      group.byType.set(pattern.event, handler);
      groups.set(pattern.group, group);
    }
    return [...groups.values()];
  }

  private subscribe(group: GroupHandlers): Promise<Subscription> {
    const options = this.options.groups?.[group.suffix] ?? {};
    const types = [...group.byType.keys()];
    if (group.batch) {
      return this.bus.subscribeEventBatches({
        group: group.name,
        types,
        maxBatchSize: options.maxBatchSize,
        fromBeginning: options.fromBeginning,
        handleBatch: async (events, ctx) => {
          // One partition's batch holds one topic, so one type.
          const handler = group.byType.get(events[0]!.type)!;
          this.publishAll(await this.run(handler, events, new BusBatchContext([ctx])), ctx.publish);
        },
      });
    }
    return this.bus.subscribeEvents({
      group: group.name,
      types,
      fromBeginning: options.fromBeginning,
      handle: async (event, ctx) => {
        const handler = group.byType.get(event.type)!;
        this.publishAll(await this.run(handler, event, new BusContext([ctx])), ctx.publish);
      },
    });
  }

  /** Runs a Nest-wrapped handler (guards, interceptors, filters) to its last value. */
  private async run(handler: MessageHandler, data: unknown, ctx: BusContext | BusBatchContext): Promise<Published> {
    return lastValueFrom(this.transformToObservable(await handler(data, ctx)), { defaultValue: undefined }) as Promise<Published>;
  }

  private publishAll(published: Published, publish: (event: AnyEvent | EventEnvelope) => void): void {
    if (!published) return;
    for (const event of [published].flat() as (AnyEvent | EventEnvelope)[]) publish(event);
  }
}
