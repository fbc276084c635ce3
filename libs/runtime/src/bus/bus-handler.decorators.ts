import { applyDecorators, Catch, Controller, UseFilters, type ExceptionFilter } from '@nestjs/common';
import { BaseRpcContext, EventPattern } from '@nestjs/microservices';
import { throwError, type Observable } from 'rxjs';
import type { BatchHandlerContext, HandlerContext, IncomingMessage } from '@mlops/bus';
import type { AnyEvent, EventEnvelope, EventOf, EventType } from '@mlops/contracts';

/** Events a handler returns are published with the acknowledgement of what it handled. */
export type Published = void | undefined | AnyEvent | EventEnvelope | readonly (AnyEvent | EventEnvelope)[];

/** What a handler of one event may use besides the event (`@Ctx()`): the message as delivered. */
export class BusContext extends BaseRpcContext<[HandlerContext]> {
  get message(): IncomingMessage {
    return this.args[0].message;
  }
}

/** What a batch handler may use besides its events (`@Ctx()`): the messages as delivered. */
export class BusBatchContext extends BaseRpcContext<[BatchHandlerContext]> {
  get messages(): IncomingMessage[] {
    return this.args[0].messages;
  }
}

/** How BusServer finds a handler: its event type and the consumer group it reads in. */
export interface BusPattern {
  event: EventType;
  /** Suffix of the service's consumer group ('' is the service's group itself). */
  group: string;
}

export interface BusHandlerExtras {
  batch: boolean;
}

export interface OnEventOptions {
  /**
   * A consumer group of its own, `<service group>.<group>`, when these events must not wait
   * behind the service's other events. Handlers that share a group share one subscription.
   */
  group?: string;
}

function patterns(types: EventType | readonly EventType[], options: OnEventOptions): BusPattern[] {
  return [types].flat().map((event) => ({ event, group: options.group ?? '' }));
}

/**
 * Handles events of `types`, one at a time, in the order of their key. The parameter type
 * narrows from `types` (`EventOf<T>`); returned events are published with the ack, in the
 * transaction where the bus has one. Throwing retries, then dead-letters (see the bus).
 * As in any Nest message handler, a second parameter needs `@Payload()` and `@Ctx()`.
 */
export function OnEvent<const T extends EventType>(types: T | readonly T[], options: OnEventOptions = {}) {
  const decorate = EventPattern(patterns(types, options), { batch: false } satisfies BusHandlerExtras);
  return <H extends (event: EventOf<T>, ctx: BusContext) => Published | Promise<Published>>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<H>,
  ): void => {
    decorate(target, key, descriptor);
  };
}

/**
 * Handles events of `types` several at a time (consecutive events of one partition, valid
 * ones only), so they can be applied in one database transaction. If it throws, the events
 * are handled again one by one (a batch of one each), so it must apply an event id once.
 * Batch handlers need a group of their own.
 */
export function OnEventBatch<const T extends EventType>(types: T | readonly T[], options: OnEventOptions & { group: string }) {
  const decorate = EventPattern(patterns(types, options), { batch: true } satisfies BusHandlerExtras);
  return <H extends (events: EventOf<T>[], ctx: BusBatchContext) => Published | Promise<Published>>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<H>,
  ): void => {
    decorate(target, key, descriptor);
  };
}

/**
 * Nest's default RPC filter replaces every error with "Internal server error"; the bus needs
 * the error itself to tell bad input (dead letter at once) from an outage (wait) from a
 * transient failure (retry).
 */
@Catch()
export class RethrowToBus implements ExceptionFilter {
  catch(error: unknown): Observable<never> {
    return throwError(() => error);
  }
}

/** A class of bus event handlers (`@OnEvent`, `@OnEventBatch`); list it in a module's controllers. */
export function BusConsumer(): ClassDecorator {
  return applyDecorators(Controller(), UseFilters(RethrowToBus));
}
