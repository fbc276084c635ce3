import { Inject, Injectable } from '@nestjs/common';
import { ModelFeatureViews } from '../feature-views/model-feature-views';
import { LOOP_CLOCK, LOOP_LOG, LOOP_SETTINGS, type LoopClock, type LoopLog, type LoopSettings } from '../loop.settings';
import { LoopRepository, type LoopTx } from '../store/loop.repository';
import { checkModel, cronOf, type Triggers } from './trigger-config';
import type { TriggerRow } from '../store/trigger.entities';
import { TriggersRepository } from '../store/triggers.repository';

/** A model's triggers as GET /api/triggers/:model shows them. */
export interface ModelTriggers extends Triggers {
  model: string;
  /** False: the model has no triggers of its own and these are the config's defaults. */
  configured: boolean;
  updatedAt: string | null;
  /** The schedule's next slot. */
  nextScheduledAt: string | null;
  /** Validated rows counted towards newData.rows since the model's last training dataset. */
  newDataCounted: number;
  /** The latest slots of the schedule (at most 20, newest first): what was decided and which instance claimed each. */
  recentSlots: { slot: string; decision: string; note: string; claimedBy: string }[];
}

function triggersOf(row: TriggerRow): Triggers {
  return { drift: row.drift, performance: row.performance, schedule: row.schedule, newData: row.newDataRows === null ? null : { rows: row.newDataRows } };
}

/** Each model's retrain triggers: its own (PUT /api/triggers/:model) or the config's defaults. */
@Injectable()
export class TriggersService {
  constructor(
    private readonly triggers: TriggersRepository,
    private readonly loops: LoopRepository,
    private readonly featureViews: ModelFeatureViews,
    @Inject(LOOP_SETTINGS) private readonly settings: LoopSettings,
    @Inject(LOOP_CLOCK) private readonly now: LoopClock,
    @Inject(LOOP_LOG) private readonly log: LoopLog,
  ) {}

  /** The triggers that apply to the model now. */
  async effective(model: string, tx?: LoopTx): Promise<Triggers> {
    const row = await this.triggers.find(model, tx);
    return row ? triggersOf(row) : { ...this.settings.triggers.defaults, schedule: null, newData: null };
  }

  /** Every model with triggers of its own. */
  async rows(): Promise<TriggerRow[]> {
    return this.triggers.all();
  }

  async get(model: string): Promise<ModelTriggers> {
    checkModel(model);
    const row = await this.triggers.find(model);
    return this.view(model, row);
  }

  async list(): Promise<{ defaults: Triggers; triggers: ModelTriggers[] }> {
    const rows = await this.triggers.all();
    return {
      defaults: { ...this.settings.triggers.defaults, schedule: null, newData: null },
      triggers: await Promise.all(rows.map((row) => this.view(row.model, row))),
    };
  }

  /** Sets the model's triggers (all of them); a new schedule is due from now on. */
  async put(model: string, triggers: Triggers): Promise<ModelTriggers> {
    checkModel(model);
    const now = this.now();
    const saved = await this.loops.transaction(async (tx) => {
      const before = await this.triggers.find(model, tx);
      const row: TriggerRow = {
        model,
        drift: triggers.drift,
        performance: triggers.performance,
        schedule: triggers.schedule,
        scheduleSince: triggers.schedule === null ? null : before?.schedule === triggers.schedule ? before.scheduleSince : now,
        newDataRows: triggers.newData?.rows ?? null,
        updatedAt: now,
      };
      await this.triggers.save(tx, row);
      return row;
    });
    const view = await this.view(model, saved);
    this.log.log(
      `triggers of ${model} set: drift ${onOff(triggers.drift)}, performance ${onOff(triggers.performance)}, ` +
        `schedule ${triggers.schedule ? `"${triggers.schedule}" (next ${view.nextScheduledAt})` : 'off'}, ` +
        `new data ${triggers.newData ? `every ${triggers.newData.rows} rows` : 'off'}`,
    );
    if (triggers.newData) await this.warnIfNoSource(model);
    return view;
  }

  /** The view the new-data count reads is the model's view now: set at run time, else LOOP_FEATURE_VIEWS. */
  private async warnIfNoSource(model: string): Promise<void> {
    const { featureView } = await this.featureViews.of(model);
    if (!featureView) this.log.warn(`new-data trigger of ${model}: no feature view for it (PUT /api/models/${model}/feature-view or LOOP_FEATURE_VIEWS), so no rows are counted`);
    else if (!this.settings.triggers.sourceOf(featureView)) this.log.warn(`new-data trigger of ${model}: no source for feature view ${featureView} (LOOP_VIEW_SOURCES), so no rows are counted`);
  }

  private async view(model: string, row: TriggerRow | null): Promise<ModelTriggers> {
    const triggers = row ? triggersOf(row) : { ...this.settings.triggers.defaults, schedule: null, newData: null };
    const next = triggers.schedule ? cronOf(triggers.schedule)?.nextRun(new Date(this.now())) : null;
    const counted = triggers.newData ? ((await this.triggers.count(model))?.rows ?? 0) : 0;
    const slots = await this.triggers.slotsOf(model);
    return {
      model,
      ...triggers,
      configured: !!row,
      updatedAt: row ? new Date(row.updatedAt).toISOString() : null,
      nextScheduledAt: next ? next.toISOString() : null,
      newDataCounted: counted,
      recentSlots: slots.map((s) => ({ slot: new Date(s.slot).toISOString(), decision: s.decision, note: s.note, claimedBy: s.claimedBy })),
    };
  }
}

function onOff(value: boolean): string {
  return value ? 'on' : 'off';
}
