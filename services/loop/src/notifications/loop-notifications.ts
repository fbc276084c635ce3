import { Injectable } from '@nestjs/common';
import type { EventOf } from '@mlops/contracts';
import type { LoopRow } from '../store/entities';
import type { LoopEnding, LoopTx } from '../store/loop.repository';
import type { Notification } from './notification-events';
import { Notifier } from './notifier';

/** The bus events that are notifications (model.registered only when its gate rejected the version). */
export const NOTIFIED_EVENT_TYPES = ['model.rolled_back', 'drift.detected', 'performance.degraded', 'model.registered'] as const;
export type NotifiedEventType = (typeof NOTIFIED_EVENT_TYPES)[number];

/**
 * One id per gate rejection, whichever path reports it first: the registry's model.registered
 * with `gate.passed: false`, or the loop's sweep inferring it (no deployment.requested in time).
 */
function gateRejectionId(model: string, version: number): string {
  return `gate.rejected:${model}:v${version}`;
}

/** What the platform notifies webhooks of: the bus events in NOTIFIED_EVENT_TYPES and the loop's failed, stalled and gate-rejected endings. */
@Injectable()
export class LoopNotifications {
  constructor(private readonly notifier: Notifier) {}

  /** The notification of a bus event, undefined when it is none (a model.registered that passed or had no gate). */
  static ofEvent(event: EventOf<NotifiedEventType>): Notification | undefined {
    const base = { model: event.data.model, occurredAt: event.time };
    switch (event.type) {
      case 'model.registered':
        if (!event.data.gate || event.data.gate.passed) return undefined;
        return {
          ...base,
          id: gateRejectionId(event.data.model, event.data.version),
          event: 'gate.rejected',
          data: { version: event.data.version, reason: event.data.gate.reason, gate: event.data.gate, runId: event.data.runId, correlationId: event.correlationId },
        };
      default:
        return { ...base, id: event.id, event: event.type, data: { ...event.data, correlationId: event.correlationId } };
    }
  }

  /** Queues the notification of a bus event in a transaction of its own; returns the log line. */
  onEvent(event: EventOf<NotifiedEventType>): Promise<(() => void) | undefined> {
    const notification = LoopNotifications.ofEvent(event);
    return notification ? this.notifier.notify(notification) : Promise.resolve(undefined);
  }

  /** Queues the notification of a loop's end in the transaction that ends it (failed, stalled, rejected by the gate). */
  async loopEnded(
    tx: LoopTx,
    loop: Pick<LoopRow, 'correlationId' | 'model'> & Partial<Pick<LoopRow, 'candidateVersion' | 'trigger'>>,
    ending: LoopEnding,
  ): Promise<(() => void) | undefined> {
    const data = { correlationId: loop.correlationId, outcome: ending.outcome, reason: ending.reason, trigger: loop.trigger, version: loop.candidateVersion ?? undefined };
    const occurredAt = new Date(ending.at).toISOString();
    if (ending.outcome === 'failed') {
      const event = ending.stalled ? 'loop.stalled' : 'loop.failed';
      return this.notifier.notify({ id: `loop:${loop.correlationId}:${event}`, event, model: loop.model, occurredAt, data }, tx);
    }
    // Without the candidate's version the rejection came from model.registered, notified by its consumer.
    if (ending.outcome === 'rejected_by_gate' && typeof loop.candidateVersion === 'number') {
      return this.notifier.notify({ id: gateRejectionId(loop.model, loop.candidateVersion), event: 'gate.rejected', model: loop.model, occurredAt, data }, tx);
    }
    return undefined;
  }
}
