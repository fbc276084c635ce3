import { Inject, Injectable } from '@nestjs/common';
import { v5 as uuidv5 } from 'uuid';
import { causedBy, type AnyEvent, type EventEnvelope, type EventOf } from '@mlops/contracts';
import { ModelFeatureViews } from '../feature-views/model-feature-views';
import { LoopMetrics } from '../loop.metrics';
import { SERVICE, type LoopEventType } from '../loop.names';
import { LOOP_CLOCK, LOOP_LOG, LOOP_SETTINGS, type LoopClock, type LoopLog, type LoopSettings } from '../loop.settings';
import { stageOf } from '../stage-facts';
import type { LoopOutcome, LoopRow } from '../store/entities';
import { LoopRepository, type LoopTx } from '../store/loop.repository';
import { LoopCloser, type AfterCommit } from './loop-closer';

const EVENT_ID_NAMESPACE = '3a1f0c7e-5b2d-4c8e-9f6a-7d1e2b3c4a5f';

function eventTime(event: Pick<EventEnvelope, 'time'>): number {
  return Date.parse(event.time);
}

/**
 * The loop controller: one loop per correlation id, opened by drift.detected (which it
 * answers with retrain.requested, debounced per model and with a cooldown after a loop
 * ends), each later event of that correlation id a stage, and an outcome at the end:
 * promoted, rolled_back, rejected_by_gate or failed. Every effect is applied once per event id.
 */
@Injectable()
export class LoopEvents {
  readonly stats = { applied: 0, redelivered: 0, untracked: 0, driftIgnored: 0, retrainsRequested: 0 };

  constructor(
    private readonly loops: LoopRepository,
    private readonly closer: LoopCloser,
    private readonly featureViews: ModelFeatureViews,
    private readonly metrics: LoopMetrics,
    @Inject(LOOP_SETTINGS) private readonly settings: LoopSettings,
    @Inject(LOOP_CLOCK) private readonly now: LoopClock,
    @Inject(LOOP_LOG) private readonly log: LoopLog,
  ) {}

  /** Applies one event; returns the events to publish with its acknowledgement. */
  async handle(event: EventOf<LoopEventType>): Promise<AnyEvent[]> {
    // Counted only once the effect has committed.
    const committed: AfterCommit = [];
    const outcome = await this.loops.applyOnce(event.id, (tx) =>
      event.type === 'drift.detected' ? this.onDrift(tx, event, committed) : this.onStage(tx, event, committed),
    );
    if (outcome.applied) {
      this.stats.applied++;
      committed.forEach((count) => count());
      return outcome.result;
    }
    this.stats.redelivered++;
    // A redelivered drift that opened a loop gets the same retrain.requested (same id) again,
    // in case the first one was lost between the commit and the acknowledgement.
    if (event.type !== 'drift.detected') return [];
    const loop = await this.loops.findByTrigger(event.id);
    return loop?.featureView ? [this.retrainRequest(event, loop.featureView)] : [];
  }

  private retrainRequest(event: EventEnvelope<'drift.detected'>, featureView: string): AnyEvent {
    const drifted = event.data.features.filter((f) => f.drifted);
    return {
      ...causedBy(event, 'retrain.requested', {
        source: SERVICE,
        subject: event.data.model,
        time: new Date(this.now()),
        data: {
          model: event.data.model,
          featureView,
          reason:
            `drift on version ${event.data.version}: ${drifted.length} of ${event.data.features.length} features drifted ` +
            `(${drifted.map((f) => `${f.feature} ${f.statistic}=${f.value.toPrecision(3)}`).join(', ')})`,
          triggeredBy: event.id,
        },
      }),
      id: uuidv5(`${event.id}/retrain.requested`, EVENT_ID_NAMESPACE),
    } as AnyEvent;
  }

  private async onDrift(tx: LoopTx, event: EventEnvelope<'drift.detected'>, committed: AfterCommit): Promise<AnyEvent[]> {
    const model = event.data.model;
    const at = eventTime(event);
    const open = await this.loops.openOf(tx, model);
    if (open) {
      committed.push(() => this.metrics.driftIgnored.inc({ model, reason: 'debounce' }));
      this.stats.driftIgnored++;
      await this.loops.insertStage(tx, stageOf(open.correlationId, event, at, { ignored: true, note: `debounced: loop ${open.correlationId} of ${model} is still open` }));
      await this.loops.update(tx, open.correlationId, { lastStageAt: Math.max(open.lastStageAt, at) });
      return [];
    }
    const last = await this.loops.lastClosedOf(tx, model);
    const { cooldownMs } = this.settings.drift;
    if (last?.endedAt != null && at - last.endedAt < cooldownMs) {
      committed.push(() => this.metrics.driftIgnored.inc({ model, reason: 'cooldown' }));
      this.stats.driftIgnored++;
      const left = Math.ceil((cooldownMs - (at - last.endedAt)) / 1000);
      await this.loops.insertStage(tx, stageOf(last.correlationId, event, at, { ignored: true, note: `cooldown: loop ${last.correlationId} ended ${last.outcome}; ${left}s of cooldown left` }));
      return [];
    }
    if (await this.loops.exists(event.correlationId, tx)) {
      committed.push(() => this.metrics.driftIgnored.inc({ model, reason: 'duplicate' }));
      this.stats.driftIgnored++;
      await this.loops.insertStage(tx, stageOf(event.correlationId, event, at, { ignored: true, note: 'a loop with this correlation id already exists' }));
      return [];
    }
    const { featureView } = await this.featureViews.of(model, tx);
    const drifted = event.data.features.filter((f) => f.drifted).map((f) => f.feature);
    const loop: LoopRow = {
      correlationId: event.correlationId,
      model,
      openModel: model,
      status: 'open',
      outcome: null,
      outcomeReason: null,
      triggerEventId: event.id,
      driftVersion: event.data.version,
      driftedFeatures: JSON.stringify(drifted),
      featureView,
      candidateVersion: null,
      awaitingGateSince: null,
      startedAt: at,
      endedAt: null,
      lastStageAt: at,
    };
    await this.loops.insert(tx, loop);
    await this.loops.insertStage(tx, stageOf(loop.correlationId, event, at));
    committed.push(() => this.metrics.opened.inc({ model }));
    if (!featureView) {
      const reason = `no feature view to retrain ${model} from (none set with PUT /api/models/${model}/feature-view, LOOP_FEATURE_VIEWS names none)`;
      await this.closer.end(tx, loop, { outcome: 'failed', reason, at }, committed);
      this.log.warn(`drift for ${model}: no feature view set (PUT /api/models/${model}/feature-view or LOOP_FEATURE_VIEWS); loop ${loop.correlationId} failed`);
      return [];
    }
    this.stats.retrainsRequested++;
    this.log.log(`loop ${loop.correlationId} opened for ${model} v${event.data.version}: retrain from ${featureView}`);
    return [this.retrainRequest(event, featureView)];
  }

  private async onStage(tx: LoopTx, event: EventOf<Exclude<LoopEventType, 'drift.detected'>>, committed: AfterCommit): Promise<AnyEvent[]> {
    const loop = await this.loops.find(event.correlationId, tx);
    if (!loop) {
      this.stats.untracked++;
      return [];
    }
    const at = eventTime(event);
    const closed = loop.status === 'closed';
    await this.loops.insertStage(tx, stageOf(loop.correlationId, event, at, closed ? { note: `after the loop ended ${loop.outcome}` } : {}));
    // Topics are consumed independently (on Kafka, partitions too): the version may first be
    // known from a later stage, or only after the loop ended.
    const candidate = candidateOf(event);
    if (closed) {
      if (loop.candidateVersion === null && candidate !== undefined) await this.loops.update(tx, loop.correlationId, { candidateVersion: candidate });
      return [];
    }
    const patch: Partial<LoopRow> = { lastStageAt: Math.max(loop.lastStageAt, at) };
    if (loop.candidateVersion === null && candidate !== undefined) patch.candidateVersion = candidate;
    let ending: [LoopOutcome, string] | undefined;
    switch (event.type) {
      case 'training.failed':
        ending = ['failed', `training failed: ${event.data.error}`];
        break;
      case 'model.registered': {
        patch.candidateVersion = event.data.version;
        if (event.data.gate && !event.data.gate.passed) {
          ending = ['rejected_by_gate', `the registry's gate rejected version ${event.data.version}: ${event.data.gate.reason}`];
          break;
        }
        // deployment.requested may have been applied first (topics are consumed independently).
        const deployed = await this.loops.hasStage(tx, loop.correlationId, 'deployment.requested');
        if (!deployed) patch.awaitingGateSince = this.now();
        break;
      }
      case 'deployment.requested':
        patch.awaitingGateSince = null;
        break;
      case 'deployment.completed':
        if (event.data.status === 'failed') ending = ['failed', `deployment of version ${event.data.version} failed: ${event.data.error ?? 'no error given'}`];
        break;
      case 'model.promoted':
        if (event.data.alias === 'champion' && (loop.candidateVersion === null || loop.candidateVersion === event.data.version)) {
          ending = ['promoted', `version ${event.data.version} is ${event.data.alias}${event.data.previousVersion ? ` (was version ${event.data.previousVersion})` : ''}`];
        }
        break;
      case 'model.rolled_back':
        ending = ['rolled_back', `version ${event.data.version} rolled back${event.data.restoredVersion ? ` (version ${event.data.restoredVersion} serves)` : ''}: ${event.data.reason}`];
        break;
      default:
        break;
    }
    await this.loops.updateOpen(tx, loop.correlationId, patch);
    if (ending) await this.closer.end(tx, loop, { outcome: ending[0], reason: ending[1], at }, committed);
    return [];
  }
}

/** The version a loop event names as the loop's candidate (the retrained version). */
function candidateOf(event: AnyEvent): number | undefined {
  switch (event.type) {
    case 'model.registered':
    case 'deployment.requested':
    case 'model.promoted':
    case 'model.rolled_back':
      return event.data.version;
    default:
      return undefined;
  }
}
