import { randomUUID } from 'node:crypto';
import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, Payload } from '@nestjs/microservices';
import { DLQ_HEADERS, EventBus, PermanentError, type IncomingMessage, type MessageTransport, type Subscription } from '@mlops/bus';
import { causedBy, createEvent, type EventOf } from '@mlops/contracts';
import { waitFor } from '../../../../test/support/wait-for';
import { BusBatchContext, BusConsumer, BusContext, OnEvent, OnEventBatch } from './bus-handler.decorators';
import { BusModule, startBusConsumers } from './bus.module';
import type { BusServer } from './bus.server';

const FAST_RETRY = { maxAttempts: 3, initialBackoffMs: 10, maxBackoffMs: 50 };

function registered(subject: string, version: number) {
  return createEvent('model.registered', { source: 'bus-server-test', subject, data: { model: subject, version, artifactHash: `sha256:${version}` } });
}

function promoted(subject: string, version: number) {
  return createEvent('model.promoted', { source: 'bus-server-test', subject, data: { model: subject, version, alias: 'champion' } });
}

/** What the handlers below saw, shared with the test through DI. */
@Injectable()
class Seen {
  readonly registered: EventOf<'model.registered'>[] = [];
  readonly lifecycle: string[] = [];
  readonly batches: { subject: string; version: number }[][] = [];
  readonly attempts = new Map<string, number>();
  readonly offsets: string[] = [];
}

@BusConsumer()
class ModelEventsConsumer {
  constructor(private readonly seen: Seen) {}

  /** Returns its follow-up, which the bus publishes with the ack. */
  @OnEvent('model.registered')
  onRegistered(@Payload() event: EventOf<'model.registered'>, @Ctx() ctx: BusContext) {
    this.seen.registered.push(event);
    this.seen.offsets.push(ctx.message.offset);
    const version = event.data.version;
    if (event.subject.startsWith('poison')) throw new PermanentError(`version ${version} is poison`);
    if (event.subject.startsWith('flaky')) {
      const attempts = (this.seen.attempts.get(event.id) ?? 0) + 1;
      this.seen.attempts.set(event.id, attempts);
      throw new Error(`attempt ${attempts} failed`);
    }
    return causedBy(event, 'model.promoted', { source: 'bus-server-test', subject: event.subject, data: { model: event.data.model, version, alias: 'champion' } });
  }

  /** Two types, one handler: the parameter narrows on `type`. */
  @OnEvent(['model.promoted', 'model.rolled_back'], { group: 'lifecycle' })
  async onLifecycle(event: EventOf<'model.promoted' | 'model.rolled_back'>) {
    this.seen.lifecycle.push(event.type === 'model.promoted' ? `promoted ${event.subject} v${event.data.alias}` : `rolled back ${event.subject}: ${event.data.reason}`);
  }
}

@BusConsumer()
class PromotionBatches {
  constructor(private readonly seen: Seen) {}

  @OnEventBatch('model.promoted', { group: 'batches' })
  onPromotions(@Payload() events: EventOf<'model.promoted'>[], @Ctx() ctx: BusBatchContext) {
    if (ctx.messages.length !== events.length) throw new Error('a valid batch lost a message');
    this.seen.batches.push(events.map((e) => ({ subject: e.subject, version: e.data.version })));
  }
}

@Module({ controllers: [ModelEventsConsumer, PromotionBatches], providers: [Seen] })
class TestConsumersModule {}

/**
 * What the Nest transport over the bus must keep, on any adapter: typed handlers, events
 * they return published with the ack, retries then DLQ with the handler's own error, batch
 * handlers, one subscription per consumer group.
 */
export function busServerContract(name: string, makeTransport: () => MessageTransport | Promise<MessageTransport>) {
  describe(`Nest bus transport: ${name}`, () => {
    let bus: EventBus;
    let app: INestApplication;
    let server: BusServer;
    let seen: Seen;
    const watchers: Subscription[] = [];
    const group = `bus-server-${randomUUID()}`;

    async function watch(topics: string[]): Promise<IncomingMessage[]> {
      const got: IncomingMessage[] = [];
      watchers.push(await bus.subscribe({ group: `watch-${randomUUID()}`, topics, fromBeginning: true, handle: async (m) => void got.push(m) }));
      return got;
    }

    beforeAll(async () => {
      bus = new EventBus(await makeTransport(), { retry: FAST_RETRY });
      @Module({ imports: [BusModule.forRoot(bus), TestConsumersModule] })
      class RootModule {}
      app = await NestFactory.create(RootModule, { logger: false });
      await app.init();
      server = await startBusConsumers(app, bus, { group, groups: { batches: { maxBatchSize: 3 } } });
      seen = app.get(Seen);
    });

    afterAll(async () => {
      for (const w of watchers) await w.stop();
      await server.close();
      await app.close();
      await bus.close();
    });

    it('subscribes one consumer group per group name, with the types of its handlers', () => {
      expect(server.groups()).toEqual([
        { group, batch: false, types: ['model.registered'] },
        { group: `${group}.lifecycle`, batch: false, types: ['model.promoted', 'model.rolled_back'] },
        { group: `${group}.batches`, batch: true, types: ['model.promoted'] },
      ]);
    });

    it('hands a typed event to its handler and publishes the event it returns', async () => {
      const subject = `ok-${randomUUID()}`;
      const promotions = await watch(['model.promoted']);
      const event = registered(subject, 3);
      await bus.publish(event);
      await waitFor(() => seen.registered.some((e) => e.id === event.id), 'the handler to see the event');
      const followUp = await waitFor(() => promotions.find((m) => m.key === subject), 'the returned model.promoted');
      const published = JSON.parse(followUp.value.toString());
      expect(published).toMatchObject({ type: 'model.promoted', subject, correlationId: event.correlationId, data: { version: 3, alias: 'champion' } });
      await waitFor(() => seen.lifecycle.includes(`promoted ${subject} vchampion`), 'the lifecycle group to see the follow-up');
    });

    it('dead-letters a permanent error at once, with the handler\'s own message', async () => {
      const subject = `poison-${randomUUID()}`;
      const dlq = await watch(['model.registered.dlq']);
      await bus.publish(registered(subject, 7));
      const dead = await waitFor(() => dlq.find((m) => m.key === subject), 'the dead letter');
      expect(dead.headers[DLQ_HEADERS.error]).toBe('version 7 is poison');
      expect(dead.headers[DLQ_HEADERS.attempts]).toBe('1');
      expect(dead.headers[DLQ_HEADERS.group]).toBe(group);
    });

    it('retries a failing handler, then dead-letters it with the last error', async () => {
      const subject = `flaky-${randomUUID()}`;
      const dlq = await watch(['model.registered.dlq']);
      const event = registered(subject, 1);
      await bus.publish(event);
      const dead = await waitFor(() => dlq.find((m) => m.key === subject), 'the dead letter');
      expect(seen.attempts.get(event.id)).toBe(FAST_RETRY.maxAttempts);
      expect(dead.headers[DLQ_HEADERS.error]).toBe(`attempt ${FAST_RETRY.maxAttempts} failed`);
      // What follows on the topic goes on.
      const after = registered(`ok-${randomUUID()}`, 2);
      await bus.publish(after);
      await waitFor(() => seen.registered.some((e) => e.id === after.id), 'the next event');
    });

    it('gives a batch handler consecutive events, at most maxBatchSize each', async () => {
      const subject = `batch-${randomUUID()}`;
      const versions = [101, 102, 103, 104, 105];
      await bus.publish(versions.map((v) => promoted(subject, v)));
      // The group reads the topic's whole history (other tests, earlier runs): keep this subject's.
      // A batch may be handled again (the bus replays a failed batch one event at a time):
      // count distinct versions.
      const mine = () => seen.batches.map((b) => b.filter((e) => e.subject === subject).map((e) => e.version)).filter((b) => b.length > 0);
      await waitFor(() => new Set(mine().flat()).size === versions.length, 'five promotions in batches');
      expect(seen.batches.every((b) => b.length <= 3)).toBe(true);
      expect([...new Set(mine().flat())]).toEqual(versions);
    });

    it('stops consuming when closed', async () => {
      await server.close();
      const event = registered(`late-${randomUUID()}`, 9);
      const marker = await watch(['model.registered']);
      await bus.publish(event);
      // The watcher (another group) receiving it shows it was delivered to the topic; the closed group never handles it.
      await waitFor(() => marker.some((m) => m.key === event.subject), 'the watcher to receive the event');
      expect(seen.registered.some((e) => e.id === event.id)).toBe(false);
    });
  });
}
