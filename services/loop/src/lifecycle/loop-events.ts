import { Inject, Injectable } from '@nestjs/common';
import type { AnyEvent, EventEnvelope, EventOf } from '@mlops/contracts';
import { LoopMetrics } from '../loop.metrics';
import type { LoopEventType } from '../loop.names';
import { LOOP_CLOCK, LOOP_LOG, type LoopClock, type LoopLog } from '../loop.settings';
import { stageOf } from '../stage-facts';
import type { LoopOutcome, LoopRow } from '../store/entities';
import { LoopRepository, type LoopTx } from '../store/loop.repository';
import { LoopOpener } from '../triggers/loop-opener';
import { NewDataCounter } from '../triggers/new-data-counter';
import { TriggersService } from '../triggers/triggers.service';
import { LoopCloser, type AfterCommit } from './loop-closer';

function eventTime(event: Pick<EventEnvelope, 'time'>): number {
  return Date.parse(event.time);
}

/**
 * The loop controller: one loop per correlation id, opened by a trigger (here drift.detected
 * or performance.degraded, answered with retrain.requested; LoopOpener debounces per model and
 * keeps a cooldown after a loop ends), each later event of that correlation id a stage, and an outcome at the end:
 * promoted, rolled_back, rejected_by_gate or failed. Every effect is applied once per event id.
 */
@Injectable()
export class LoopEvents {
  readonly stats = { applied: 0, redelivered: 0, untracked: 0, driftIgnored: 0, retrainsRequested: 0 };

  constructor(
    private readonly loops: LoopRepository,
    private readonly closer: LoopCloser,
    private readonly opener: LoopOpener,
    private readonly triggers: TriggersService,
    private readonly newData: NewDataCounter,
    private readonly metrics: LoopMetrics,
    @Inject(LOOP_CLOCK) private readonly now: LoopClock,
    @Inject(LOOP_LOG) private readonly log: LoopLog,
  ) {}

  /** Applies one event; returns the events to publish with its acknowledgement. */
  async handle(event: EventOf<LoopEventType>): Promise<AnyEvent[]> {
    // Counted only once the effect has committed.
    const committed: AfterCommit = [];
    const outcome = await this.loops.applyOnce(event.id, (tx) =>
      isTrigger(event) ? this.onTrigger(tx, event, committed) : this.onStage(tx, event, committed),
    );
    if (outcome.applied) {
      this.stats.applied++;
      committed.forEach((count) => count());
      return outcome.result;
    }
    this.stats.redelivered++;
    // A redelivered trigger that opened a loop gets the same retrain.requested (same id) again,
    // in case the first one was lost between the commit and the acknowledgement.
    if (!isTrigger(event)) return [];
    const loop = await this.loops.findByTrigger(event.id);
    return loop?.featureView ? [await this.opener.retrainRequest(loop, reasonOf(event))] : [];
  }

  /** drift.detected or performance.degraded: opens a loop when the model's trigger is on. */
  private async onTrigger(tx: LoopTx, event: EventOf<TriggerEventType>, committed: AfterCommit): Promise<AnyEvent[]> {
    const model = event.data.model;
    const trigger = event.type === 'drift.detected' ? 'drift' : 'performance';
    const at = eventTime(event);
    const triggers = await this.triggers.effective(model, tx);
    if (!triggers[trigger]) {
      committed.push(() => {
        this.metrics.triggers.inc({ model, trigger, decision: 'ignored_off' });
        this.log.log(`${event.type} for ${model} v${event.data.version} ignored: its ${trigger} trigger is off (PUT /api/triggers/${model})`);
      });
      return [];
    }
    const decision = await this.opener.open(
      tx,
      {
        model,
        trigger,
        correlationId: event.correlationId,
        triggerEventId: event.id,
        at,
        version: event.data.version,
        driftedFeatures: event.type === 'drift.detected' ? event.data.features.filter((f) => f.drifted).map((f) => f.feature) : [],
        reason: reasonOf(event),
        stage: (correlationId, extra) => stageOf(correlationId, event, at, extra),
      },
      committed,
    );
    if (!decision.opened) {
      if (trigger === 'drift') committed.push(() => this.metrics.driftIgnored.inc({ model, reason: decision.reason }));
      this.stats.driftIgnored++;
      return [];
    }
    if (!decision.retrain) return [];
    this.stats.retrainsRequested++;
    return [decision.retrain];
  }

  private async onStage(tx: LoopTx, event: EventOf<Exclude<LoopEventType, TriggerEventType>>, committed: AfterCommit): Promise<AnyEvent[]> {
    // Any training dataset of the model restarts its new-data count, whether a loop asked for it or not.
    if (event.type === 'dataset.materialized' && event.data.model) await this.newData.reset(tx, event.data.model, eventTime(event), event.data.datasetId, committed);
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
        // A check of the release policy that serving makes during warm-up (latency) failed: the version never took traffic.
        if (event.data.status === 'rejected') ending = ['rejected_by_gate', `serving's warm-up rejected version ${event.data.version}: ${failingChecks(event.data)}`];
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
    // Serving's rejection is notified from here (no registry event says it), with the version it names.
    const ended = event.type === 'deployment.completed' ? { ...loop, ...patch } : loop;
    if (ending) await this.closer.end(tx, ended, { outcome: ending[0], reason: ending[1], at }, committed);
    return [];
  }
}

type TriggerEventType = 'drift.detected' | 'performance.degraded';

function isTrigger(event: EventOf<LoopEventType>): event is EventOf<TriggerEventType> {
  return event.type === 'drift.detected' || event.type === 'performance.degraded';
}

/** Why a drift or performance event asks for a retrain, as retrain.requested says it. */
function reasonOf(event: EventOf<TriggerEventType>): string {
  if (event.type === 'performance.degraded') {
    const d = event.data;
    return `performance of version ${d.version} degraded: ${d.metric} ${d.value.toPrecision(3)} against a baseline of ${d.baseline.toPrecision(3)} (threshold ${d.threshold})`;
  }
  const drifted = event.data.features.filter((f) => f.drifted);
  return (
    `drift on version ${event.data.version}: ${drifted.length} of ${event.data.features.length} features drifted ` +
    `(${drifted.map((f) => `${f.feature} ${f.statistic}=${f.value.toPrecision(3)}`).join(', ')})`
  );
}

/** The failing checks of a rejected deployment, each with its measured value and bound (e.g. `latency p99 41.2 ms > bound 5 ms (...)`). */
function failingChecks(data: EventOf<'deployment.completed'>['data']): string {
  const failing = (data.checks ?? []).filter((c) => !c.passed);
  return failing.length ? failing.map((c) => `${c.name} ${c.detail}`).join('; ') : (data.error ?? 'no check named');
}

/** The version a loop event names as the loop's candidate (the retrained version). */
function candidateOf(event: AnyEvent): number | undefined {
  switch (event.type) {
    case 'model.registered':
    case 'deployment.requested':
    case 'deployment.completed':
    case 'model.promoted':
    case 'model.rolled_back':
      return event.data.version;
    default:
      return undefined;
  }
}
