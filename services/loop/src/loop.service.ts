import type { DataSource, EntityManager, FindOptionsWhere } from 'typeorm';
import { v5 as uuidv5 } from 'uuid';
import { causedBy, type AnyEvent, type EventEnvelope, type EventType } from '@mlops/contracts';
import { applyOnce, inTransaction } from '@mlops/persistence';
import { notFound } from '@mlops/http';
import type { GateLookup } from './gate-lookup';
import type { LoopMetrics } from './loop.metrics';
import { compact, factsOf, type Facts } from './stage-facts';
import { LoopEntity, StageEntity, type LoopOutcome, type LoopRow, type LoopStatus, type StageRow } from './store/entities';

const SERVICE = 'loop';
const CONSUMER = 'loop.events';
const EVENT_ID_NAMESPACE = '3a1f0c7e-5b2d-4c8e-9f6a-7d1e2b3c4a5f';
/** A stage the loop infers: the registry's gate rejected the candidate (no event says so). */
export const GATE_REJECTED = 'gate.rejected';

/** Every event type that is a stage of a loop. */
export const LOOP_EVENT_TYPES = [
  'drift.detected',
  'retrain.requested',
  'dataset.materialized',
  'training.started',
  'training.completed',
  'training.failed',
  'model.registered',
  'deployment.requested',
  'deployment.completed',
  'canary.evaluated',
  'model.promoted',
  'model.rolled_back',
] as const satisfies readonly EventType[];

export type LoopEventType = (typeof LOOP_EVENT_TYPES)[number];

export interface LoopServiceOptions {
  /** The feature view a model is retrained from. */
  featureViewFor(model: string): string | undefined;
  cooldownMs: number;
  gateWaitMs: number;
  stallTimeoutMs: number;
  gate?: GateLookup;
  metrics?: LoopMetrics;
  now?: () => number;
  log?: { log(message: string): void; warn(message: string): void };
}

export interface LoopFilter {
  model?: string;
  status?: LoopStatus;
  outcome?: LoopOutcome;
  limit?: number;
}

export interface LoopSummary {
  correlationId: string;
  model: string;
  status: LoopStatus;
  outcome: LoopOutcome | null;
  outcomeReason: string | null;
  driftVersion: number;
  driftedFeatures: string[];
  featureView: string | null;
  candidateVersion: number | null;
  triggerEventId: string;
  startedAt: string;
  endedAt: string | null;
  /** From the drift event to the event that ended the loop. */
  durationMs: number | null;
}

export interface LoopStage {
  type: string;
  at: string;
  eventId: string | null;
  source: string;
  facts: Facts;
  ignored: boolean;
  note: string | null;
  /** Since the drift event that opened the loop. */
  sinceStartMs: number;
  /** Since the previous stage that was not ignored. */
  sincePreviousMs: number;
}

export interface LoopDetail extends LoopSummary {
  stages: LoopStage[];
}

function eventTime(event: Pick<EventEnvelope, 'time'>): number {
  return Date.parse(event.time);
}

/**
 * The loop controller: one loop per correlation id, opened by drift.detected (which it
 * answers with retrain.requested, debounced per model and with a cooldown after a loop
 * ends), each later event of that correlation id a stage, and an outcome at the end:
 * promoted, rolled_back, rejected_by_gate or failed. Every effect is applied once per event id.
 */
export class LoopService {
  readonly stats = { applied: 0, redelivered: 0, untracked: 0, driftIgnored: 0, retrainsRequested: 0 };
  private readonly now: () => number;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: LoopServiceOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Applies one event; returns the events to publish with its acknowledgement. */
  async handle(event: AnyEvent): Promise<AnyEvent[]> {
    // Counted only once the effect has committed.
    const committed: (() => void)[] = [];
    const outcome = await applyOnce(this.dataSource, SERVICE, CONSUMER, event.id, (manager) =>
      event.type === 'drift.detected' ? this.onDrift(manager, event, committed) : this.onStage(manager, event, committed),
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
    const loop = await this.dataSource.getRepository(LoopEntity).findOne({ where: { triggerEventId: event.id } });
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

  private async onDrift(manager: EntityManager, event: EventEnvelope<'drift.detected'>, committed: (() => void)[]): Promise<AnyEvent[]> {
    const model = event.data.model;
    const at = eventTime(event);
    const open = await manager.findOne(LoopEntity, { where: { openModel: model } });
    if (open) {
      committed.push(() => this.options.metrics?.driftIgnored.inc({ model, reason: 'debounce' }));
      this.stats.driftIgnored++;
      await this.insertStage(manager, open.correlationId, event, at, { ignored: true, note: `debounced: loop ${open.correlationId} of ${model} is still open` });
      await manager.update(LoopEntity, { correlationId: open.correlationId }, { lastStageAt: Math.max(open.lastStageAt, at) });
      return [];
    }
    const last = await manager.findOne(LoopEntity, { where: { model, status: 'closed' }, order: { endedAt: 'DESC' } });
    if (last?.endedAt != null && at - last.endedAt < this.options.cooldownMs) {
      committed.push(() => this.options.metrics?.driftIgnored.inc({ model, reason: 'cooldown' }));
      this.stats.driftIgnored++;
      const left = Math.ceil((this.options.cooldownMs - (at - last.endedAt)) / 1000);
      await this.insertStage(manager, last.correlationId, event, at, { ignored: true, note: `cooldown: loop ${last.correlationId} ended ${last.outcome}; ${left}s of cooldown left` });
      return [];
    }
    if (await manager.exists(LoopEntity, { where: { correlationId: event.correlationId } })) {
      committed.push(() => this.options.metrics?.driftIgnored.inc({ model, reason: 'duplicate' }));
      this.stats.driftIgnored++;
      await this.insertStage(manager, event.correlationId, event, at, { ignored: true, note: 'a loop with this correlation id already exists' });
      return [];
    }
    const featureView = this.options.featureViewFor(model) ?? null;
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
    await manager.insert(LoopEntity, loop);
    await this.insertStage(manager, loop.correlationId, event, at);
    committed.push(() => this.options.metrics?.opened.inc({ model }));
    if (!featureView) {
      await this.end(manager, loop, 'failed', `no feature view to retrain ${model} from (LOOP_FEATURE_VIEWS names none)`, at, committed);
      this.options.log?.warn(`drift for ${model}: no feature view configured (LOOP_FEATURE_VIEWS); loop ${loop.correlationId} failed`);
      return [];
    }
    this.stats.retrainsRequested++;
    this.options.log?.log(`loop ${loop.correlationId} opened for ${model} v${event.data.version}: retrain from ${featureView}`);
    return [this.retrainRequest(event, featureView)];
  }

  private async onStage(manager: EntityManager, event: AnyEvent, committed: (() => void)[]): Promise<AnyEvent[]> {
    const loop = await manager.findOne(LoopEntity, { where: { correlationId: event.correlationId } });
    if (!loop) {
      this.stats.untracked++;
      return [];
    }
    const at = eventTime(event);
    const closed = loop.status === 'closed';
    await this.insertStage(manager, loop.correlationId, event, at, closed ? { note: `after the loop ended ${loop.outcome}` } : {});
    // Topics are consumed independently (on Kafka, partitions too): the version may first be
    // known from a later stage, or only after the loop ended.
    const candidate = candidateOf(event);
    if (closed) {
      if (loop.candidateVersion === null && candidate !== undefined) await manager.update(LoopEntity, { correlationId: loop.correlationId }, { candidateVersion: candidate });
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
        const deployed = await manager.exists(StageEntity, { where: { correlationId: loop.correlationId, type: 'deployment.requested' } });
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
    await manager.update(LoopEntity, { correlationId: loop.correlationId, status: 'open' }, patch);
    if (ending) await this.end(manager, loop, ending[0], ending[1], at, committed);
    return [];
  }

  private async insertStage(
    manager: EntityManager,
    correlationId: string,
    event: AnyEvent,
    at: number,
    extra: { ignored?: boolean; note?: string } = {},
  ): Promise<void> {
    const row: StageRow = {
      correlationId,
      type: event.type,
      eventId: event.id,
      source: event.source,
      at,
      facts: JSON.stringify(compact(factsOf(event))),
      ignored: extra.ignored ?? false,
      note: extra.note ?? null,
    };
    await manager.insert(StageEntity, row);
  }

  /** Closes an open loop; false when it was already closed. */
  private async end(
    manager: EntityManager,
    loop: Pick<LoopRow, 'correlationId' | 'model' | 'startedAt'>,
    outcome: LoopOutcome,
    reason: string,
    at: number,
    committed: (() => void)[],
  ): Promise<boolean> {
    const result = await manager.update(
      LoopEntity,
      { correlationId: loop.correlationId, status: 'open' },
      { status: 'closed', outcome, outcomeReason: reason, endedAt: at, openModel: null, awaitingGateSince: null },
    );
    if (!result.affected) return false;
    committed.push(() => {
      this.options.metrics?.loopEnded(loop.model, outcome, at - loop.startedAt);
      this.options.log?.log(`loop ${loop.correlationId} ended ${outcome}: ${reason}`);
    });
    return true;
  }

  /**
   * Ends loops that wait in vain: a candidate the gate rejected (the registry says so, or
   * no deployment.requested came within the gate wait) and loops with no progress for the
   * stall timeout. Returns how many loops it ended.
   */
  async sweep(): Promise<number> {
    const now = this.now();
    const open = await this.dataSource.getRepository(LoopEntity).find({ where: { status: 'open' } });
    let ended = 0;
    for (const loop of open) {
      if (loop.awaitingGateSince !== null && loop.candidateVersion !== null) {
        const verdict = await this.gateVerdict(loop, now);
        if (verdict) {
          // Not before the last stage: stage times come from event producers' clocks.
          const at = Math.max(now, loop.lastStageAt);
          const committed: (() => void)[] = [];
          const done = await inTransaction(this.dataSource, async (manager) => {
            if (await manager.exists(StageEntity, { where: { correlationId: loop.correlationId, type: 'deployment.requested' } })) {
              await manager.update(LoopEntity, { correlationId: loop.correlationId }, { awaitingGateSince: null });
              return false;
            }
            if (!(await this.end(manager, loop, 'rejected_by_gate', verdict, at, committed))) return false;
            await manager.insert(StageEntity, {
              correlationId: loop.correlationId,
              type: GATE_REJECTED,
              eventId: null,
              source: SERVICE,
              at,
              facts: JSON.stringify({ version: loop.candidateVersion }),
              ignored: false,
              note: verdict,
            });
            return true;
          });
          if (done) ended++;
          committed.forEach((count) => count());
          continue;
        }
      }
      if (now - loop.lastStageAt >= this.options.stallTimeoutMs) {
        const reason = `no new stage for ${Math.round((now - loop.lastStageAt) / 1000)}s (LOOP_STALL_TIMEOUT_S)`;
        const committed: (() => void)[] = [];
        if (await inTransaction(this.dataSource, (manager) => this.end(manager, loop, 'failed', reason, Math.max(now, loop.lastStageAt), committed))) ended++;
        committed.forEach((count) => count());
      }
    }
    return ended;
  }

  /** Open loops per model (for the metrics gauge). */
  async openByModel(): Promise<Record<string, number>> {
    const rows = await this.dataSource.getRepository(LoopEntity).find({ where: { status: 'open' }, select: { model: true } });
    const counts: Record<string, number> = {};
    for (const r of rows) counts[r.model] = (counts[r.model] ?? 0) + 1;
    return counts;
  }

  /** Why the candidate counts as rejected by the gate, or undefined while that is not known. */
  private async gateVerdict(loop: LoopRow, now: number): Promise<string | undefined> {
    const version = loop.candidateVersion!;
    if (this.options.gate) {
      try {
        const decision = await this.options.gate.decision(loop.model, version);
        if (decision && !decision.passed) return `the registry's gate rejected version ${version}: ${decision.reason}`;
        if (decision?.passed) return undefined;
      } catch (error) {
        this.options.log?.warn(`gate decision of ${loop.model} v${version} unavailable: ${(error as Error).message}`);
      }
    }
    if (now - loop.awaitingGateSince! < this.options.gateWaitMs) return undefined;
    return `no deployment.requested ${Math.round((now - loop.awaitingGateSince!) / 1000)}s after version ${version} was registered (and model.registered carried no gate decision): taken as rejected by the registry's gate`;
  }

  // ---- queries ---------------------------------------------------------------------------

  async list(filter: LoopFilter = {}): Promise<LoopSummary[]> {
    const where: FindOptionsWhere<LoopRow> = {};
    if (filter.model) where.model = filter.model;
    if (filter.status) where.status = filter.status;
    if (filter.outcome) where.outcome = filter.outcome;
    const rows = await this.dataSource.getRepository(LoopEntity).find({ where, order: { startedAt: 'DESC' }, take: filter.limit ?? 100 });
    return rows.map(summaryOf);
  }

  async get(correlationId: string): Promise<LoopDetail> {
    const loop = await this.dataSource.getRepository(LoopEntity).findOne({ where: { correlationId } });
    if (!loop) throw notFound(`loop ${correlationId} not found`);
    const rows = await this.dataSource.getRepository(StageEntity).find({ where: { correlationId }, order: { at: 'ASC', id: 'ASC' } });
    let previous = loop.startedAt;
    const stages = rows.map((row): LoopStage => {
      const stage = {
        type: row.type,
        at: new Date(row.at).toISOString(),
        eventId: row.eventId,
        source: row.source,
        facts: JSON.parse(row.facts) as Facts,
        ignored: row.ignored,
        note: row.note,
        sinceStartMs: row.at - loop.startedAt,
        sincePreviousMs: row.at - previous,
      };
      if (!row.ignored) previous = Math.max(previous, row.at);
      return stage;
    });
    return { ...summaryOf(loop), stages };
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

function summaryOf(row: LoopRow): LoopSummary {
  return {
    correlationId: row.correlationId,
    model: row.model,
    status: row.status,
    outcome: row.outcome,
    outcomeReason: row.outcomeReason,
    driftVersion: row.driftVersion,
    driftedFeatures: JSON.parse(row.driftedFeatures) as string[],
    featureView: row.featureView,
    candidateVersion: row.candidateVersion,
    triggerEventId: row.triggerEventId,
    startedAt: new Date(row.startedAt).toISOString(),
    endedAt: row.endedAt === null ? null : new Date(row.endedAt).toISOString(),
    durationMs: row.endedAt === null ? null : row.endedAt - row.startedAt,
  };
}
