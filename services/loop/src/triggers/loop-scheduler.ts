import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { v5 as uuidv5 } from 'uuid';
import type { AnyEvent } from '@mlops/contracts';
import type { AfterCommit } from '../lifecycle/loop-closer';
import { SERVICE } from '../loop.names';
import { LOOP_CLOCK, LOOP_LOG, LOOP_SETTINGS, type LoopClock, type LoopLog, type LoopSettings } from '../loop.settings';
import { PeriodicTask } from '../periodic-task';
import { LoopRepository } from '../store/loop.repository';
import { LoopOpener } from './loop-opener';
import { dueSlot } from './schedule-slots';
import { cronOf } from './trigger-config';
import type { TriggerRow } from '../store/trigger.entities';
import { TriggersRepository } from '../store/triggers.repository';

/** Publishes events outside a consumer's acknowledgement (the schedule's retrain.requested). */
export const LOOP_PUBLISH = Symbol('LoopPublish');
export type LoopPublish = (events: AnyEvent[]) => Promise<void>;

const NAMESPACE = 'c2b7e0a4-6f1d-4d8a-9e3b-5a7c1f2e0b94';

/** What one tick did about one model's slot (for tests and logs). */
export type SlotOutcome = 'opened' | 'ignored' | 'skipped' | 'taken' | 'none';

/**
 * The schedule trigger: every LOOP_SCHEDULE_TICK_MS (and once at start, which catches up a
 * slot missed while no controller ran) each model's latest due slot is claimed with a row
 * unique per (model, slot), in the transaction that opens its loop. Whichever instance
 * commits first fires the slot; the others fail on the claim and log that it was taken.
 */
@Injectable()
export class LoopScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly ticks: PeriodicTask;
  /** The slot per model this instance last logged as taken by another (logged once, not every tick). */
  private readonly toldTaken = new Map<string, number>();

  constructor(
    private readonly loops: LoopRepository,
    private readonly triggers: TriggersRepository,
    private readonly opener: LoopOpener,
    @Inject(LOOP_PUBLISH) private readonly publish: LoopPublish,
    @Inject(LOOP_SETTINGS) private readonly settings: LoopSettings,
    @Inject(LOOP_CLOCK) private readonly now: LoopClock,
    @Inject(LOOP_LOG) private readonly log: LoopLog,
  ) {
    this.ticks = new PeriodicTask('schedule tick', () => this.tick(), log);
  }

  onApplicationBootstrap(): void {
    this.ticks.start(this.settings.triggers.scheduleTickMs, { runNow: true });
  }

  onModuleDestroy(): Promise<void> {
    return this.ticks.stop();
  }

  /** Handles the due slot of every scheduled model. */
  async tick(): Promise<Record<string, SlotOutcome>> {
    const outcomes: Record<string, SlotOutcome> = {};
    for (const row of await this.triggers.all()) {
      if (row.schedule !== null) outcomes[row.model] = await this.handle({ ...row, schedule: row.schedule });
    }
    return outcomes;
  }

  private async handle(row: TriggerRow & { schedule: string }): Promise<SlotOutcome> {
    const cron = cronOf(row.schedule);
    if (!cron) return 'none';
    const now = this.now();
    const due = dueSlot(cron, row.scheduleSince ?? row.updatedAt, now, this.settings.triggers.catchUpMs);
    if (due.kind === 'none') return 'none';
    const { model } = row;
    const slotAt = new Date(due.slot).toISOString();
    const instance = this.settings.triggers.instance;
    const claimed = await this.triggers.findSlot(model, due.slot);
    if (claimed) {
      if (claimed.claimedBy !== instance && this.toldTaken.get(model) !== due.slot) {
        this.toldTaken.set(model, due.slot);
        this.log.log(`schedule of ${model}: slot ${slotAt} was taken by instance ${claimed.claimedBy} (${claimed.decision}), not fired here`);
      }
      return 'none';
    }
    const committed: AfterCommit = [];
    try {
      const result = await this.loops.transaction(async (tx) => {
        const claim = { model, slot: due.slot, claimedBy: instance, claimedAt: now };
        if (due.kind === 'skip') {
          const note = `slot ${slotAt} is ${Math.round(due.lateMs / 1000)}s late, beyond the catch-up window of ${this.settings.triggers.catchUpMs / 1000}s (LOOP_SCHEDULE_CATCH_UP_S)`;
          await this.triggers.claimSlot(tx, { ...claim, decision: 'skipped', note });
          return { outcome: 'skipped' as const, note };
        }
        // The claim first: a second instance fails here (or on the model's open loop) and rolls back.
        await this.triggers.claimSlot(tx, { ...claim, decision: 'opened', note: '' });
        const decision = await this.opener.open(
          tx,
          {
            model,
            trigger: 'schedule',
            correlationId: uuidv5(`schedule/${model}/${due.slot}`, NAMESPACE),
            triggerEventId: `schedule:${model}:${slotAt}`,
            at: now,
            version: null,
            driftedFeatures: [],
            reason: `scheduled retraining "${row.schedule}", slot ${slotAt}`,
            stage: (correlationId, extra) => ({
              correlationId,
              type: 'trigger.schedule',
              eventId: null,
              source: SERVICE,
              at: now,
              facts: JSON.stringify({ schedule: row.schedule, slot: slotAt, instance }),
              ignored: extra?.ignored ?? false,
              note: extra?.note ?? null,
            }),
          },
          committed,
        );
        const note = decision.opened ? `loop ${decision.loop.correlationId}` : decision.note;
        await this.triggers.updateSlot(tx, model, due.slot, { decision: decision.opened ? 'opened' : 'ignored', note });
        return { outcome: decision.opened ? ('opened' as const) : ('ignored' as const), note, retrain: decision.opened ? decision.retrain : undefined };
      });
      committed.forEach((after) => after());
      if (result.outcome === 'skipped') {
        this.log.log(`schedule of ${model}: ${result.note}; skipped (the next slot is ${cron.nextRun(new Date(now))?.toISOString() ?? 'never'})`);
        return 'skipped';
      }
      if (result.retrain) await this.publishRetrain(model, slotAt, result.retrain);
      return result.outcome;
    } catch (error) {
      const winner = await this.triggers.findSlot(model, due.slot);
      if (!winner || winner.claimedBy === instance) throw error;
      this.toldTaken.set(model, due.slot);
      this.log.log(`schedule of ${model}: slot ${slotAt} was taken by instance ${winner.claimedBy} (${winner.decision}), not fired here`);
      return 'taken';
    }
  }

  private async publishRetrain(model: string, slotAt: string, retrain: AnyEvent): Promise<void> {
    try {
      await this.publish([retrain]);
    } catch (error) {
      // The loop is open; with no retrain.requested its stall timeout ends it failed.
      this.log.error(`schedule of ${model}: slot ${slotAt} opened loop ${retrain.correlationId} but retrain.requested was not published: ${(error as Error).message}`);
    }
  }
}
