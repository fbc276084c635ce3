import { Inject, Injectable } from '@nestjs/common';
import { v5 as uuidv5 } from 'uuid';
import { createEvent, type AnyEvent } from '@mlops/contracts';
import { ModelFeatureViews } from '../feature-views/model-feature-views';
import { LoopCloser, type AfterCommit } from '../lifecycle/loop-closer';
import { LoopMetrics } from '../loop.metrics';
import { SERVICE } from '../loop.names';
import { LOOP_CLOCK, LOOP_LOG, LOOP_SETTINGS, type LoopClock, type LoopLog, type LoopSettings } from '../loop.settings';
import type { LoopRow, LoopTrigger, StageRow } from '../store/entities';
import { LoopRepository, type LoopTx } from '../store/loop.repository';
import { TrainingParams } from '../training-params/model-training-params';

const EVENT_ID_NAMESPACE = '3a1f0c7e-5b2d-4c8e-9f6a-7d1e2b3c4a5f';

/** A trigger that asks for a loop of a model. */
export interface TriggerRequest {
  model: string;
  trigger: LoopTrigger;
  /** The new loop's id. */
  correlationId: string;
  /** The event (or `schedule:<model>:<slot>`) that asks. */
  triggerEventId: string;
  at: number;
  /** The version that drifted or degraded, when the trigger is about one. */
  version: number | null;
  driftedFeatures: string[];
  /** Why the model is retrained, as retrain.requested says it. */
  reason: string;
  /** The trigger as a stage of a loop: the opened loop's first, or an ignored one of the loop that blocked it. */
  stage: (correlationId: string, extra?: { ignored?: boolean; note?: string }) => StageRow;
}

export type OpenDecision =
  | { opened: true; loop: LoopRow; retrain?: AnyEvent }
  | { opened: false; reason: 'debounce' | 'cooldown' | 'duplicate'; note: string };

/**
 * Opens a loop for any trigger, with the same debounce (one open loop per model) and cooldown
 * (after a loop of the model ends) for all, in the caller's transaction. An ignored trigger is
 * recorded as an ignored stage of the loop that blocked it; every decision is logged once committed.
 */
@Injectable()
export class LoopOpener {
  constructor(
    private readonly loops: LoopRepository,
    private readonly closer: LoopCloser,
    private readonly featureViews: ModelFeatureViews,
    private readonly trainingParams: TrainingParams,
    private readonly metrics: LoopMetrics,
    @Inject(LOOP_SETTINGS) private readonly settings: LoopSettings,
    @Inject(LOOP_CLOCK) private readonly now: LoopClock,
    @Inject(LOOP_LOG) private readonly log: LoopLog,
  ) {}

  async open(tx: LoopTx, request: TriggerRequest, committed: AfterCommit): Promise<OpenDecision> {
    const { model, at, trigger } = request;
    const ignore = (reason: 'debounce' | 'cooldown' | 'duplicate', note: string): OpenDecision => {
      committed.push(() => {
        this.metrics.triggers.inc({ model, trigger, decision: `ignored_${reason}` });
        this.log.log(`${trigger} trigger for ${model} ignored (${reason}): ${note}`);
      });
      return { opened: false, reason, note };
    };
    const open = await this.loops.openOf(tx, model);
    if (open) {
      const note = `debounced: loop ${open.correlationId} of ${model} is still open`;
      await this.loops.insertStage(tx, request.stage(open.correlationId, { ignored: true, note }));
      await this.loops.update(tx, open.correlationId, { lastStageAt: Math.max(open.lastStageAt, at) });
      return ignore('debounce', note);
    }
    const last = await this.loops.lastClosedOf(tx, model);
    const { cooldownMs } = this.settings.drift;
    if (last?.endedAt != null && at - last.endedAt < cooldownMs) {
      const left = Math.ceil((cooldownMs - (at - last.endedAt)) / 1000);
      const note = `cooldown: loop ${last.correlationId} ended ${last.outcome}; ${left}s of cooldown left`;
      await this.loops.insertStage(tx, request.stage(last.correlationId, { ignored: true, note }));
      return ignore('cooldown', note);
    }
    if (await this.loops.exists(request.correlationId, tx)) {
      const note = 'a loop with this correlation id already exists';
      await this.loops.insertStage(tx, request.stage(request.correlationId, { ignored: true, note }));
      return ignore('duplicate', note);
    }
    const { featureView } = await this.featureViews.of(model, tx);
    const loop: LoopRow = {
      correlationId: request.correlationId,
      model,
      openModel: model,
      status: 'open',
      outcome: null,
      outcomeReason: null,
      trigger,
      triggerEventId: request.triggerEventId,
      driftVersion: request.version,
      driftedFeatures: JSON.stringify(request.driftedFeatures),
      featureView,
      candidateVersion: null,
      awaitingGateSince: null,
      startedAt: at,
      endedAt: null,
      lastStageAt: at,
    };
    await this.loops.insert(tx, loop);
    await this.loops.insertStage(tx, request.stage(loop.correlationId));
    committed.push(() => {
      this.metrics.opened.inc({ model });
      this.metrics.triggers.inc({ model, trigger, decision: 'opened' });
    });
    if (!featureView) {
      const reason = `no feature view to retrain ${model} from (none set with PUT /api/models/${model}/feature-view, LOOP_FEATURE_VIEWS names none)`;
      await this.closer.end(tx, loop, { outcome: 'failed', reason, at }, committed);
      committed.push(() => this.log.warn(`${trigger} trigger for ${model}: no feature view configured (PUT /api/models/${model}/feature-view or LOOP_FEATURE_VIEWS); loop ${loop.correlationId} failed`));
      return { opened: true, loop };
    }
    committed.push(() => this.log.log(`loop ${loop.correlationId} opened for ${model} by its ${trigger} trigger (${request.reason}): retrain from ${featureView}`));
    return { opened: true, loop, retrain: await this.retrainRequest(loop, request.reason, tx) };
  }

  /**
   * The loop's retrain.requested, with the model's training params when it has any; its id
   * depends only on the trigger, so a redelivery sends the same event.
   */
  async retrainRequest(loop: LoopRow, reason: string, tx?: LoopTx): Promise<AnyEvent> {
    const { params, from } = await this.trainingParams.of(loop.model, tx);
    return createEvent('retrain.requested', {
      id: uuidv5(`${loop.triggerEventId}/retrain.requested`, EVENT_ID_NAMESPACE),
      source: SERVICE,
      subject: loop.model,
      correlationId: loop.correlationId,
      time: new Date(this.now()),
      data: { model: loop.model, featureView: loop.featureView ?? undefined, reason, triggeredBy: loop.triggerEventId, ...(from === 'api' ? { params } : {}) },
    }) as AnyEvent;
  }
}
