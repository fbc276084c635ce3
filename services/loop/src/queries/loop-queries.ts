import { Injectable, type OnModuleInit } from '@nestjs/common';
import { NotFoundError } from '@mlops/errors';
import { LoopMetrics } from '../loop.metrics';
import type { Facts } from '../stage-facts';
import type { LoopOutcome, LoopRow, LoopStatus, LoopTrigger } from '../store/entities';
import { LoopRepository, type LoopFilter } from '../store/loop.repository';

export interface LoopSummary {
  correlationId: string;
  model: string;
  status: LoopStatus;
  outcome: LoopOutcome | null;
  outcomeReason: string | null;
  /** What opened the loop: drift, performance, schedule, new_data or manual. */
  trigger: LoopTrigger;
  driftVersion: number | null;
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

/** The loops as the HTTP API and the open loops gauge read them. */
@Injectable()
export class LoopQueries implements OnModuleInit {
  constructor(
    private readonly loops: LoopRepository,
    private readonly metrics: LoopMetrics,
  ) {}

  onModuleInit(): void {
    this.metrics.countOpen = () => this.openByModel();
  }

  async list(filter: LoopFilter = {}): Promise<LoopSummary[]> {
    return (await this.loops.list(filter)).map(summaryOf);
  }

  async get(correlationId: string): Promise<LoopDetail> {
    const loop = await this.loops.find(correlationId);
    if (!loop) throw new NotFoundError(`loop ${correlationId} not found`);
    const rows = await this.loops.stagesOf(correlationId);
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

  /** Open loops per model (for the metrics gauge). */
  async openByModel(): Promise<Record<string, number>> {
    const rows = await this.loops.openModels();
    const counts: Record<string, number> = {};
    for (const r of rows) counts[r.model] = (counts[r.model] ?? 0) + 1;
    return counts;
  }
}

function summaryOf(row: LoopRow): LoopSummary {
  return {
    correlationId: row.correlationId,
    model: row.model,
    status: row.status,
    outcome: row.outcome,
    outcomeReason: row.outcomeReason,
    trigger: row.trigger,
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
