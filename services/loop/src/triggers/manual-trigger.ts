import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { FailedPreconditionError } from '@mlops/errors';
import type { AfterCommit } from '../lifecycle/loop-closer';
import { SERVICE } from '../loop.names';
import { LOOP_CLOCK, type LoopClock } from '../loop.settings';
import { LoopQueries, type LoopSummary } from '../queries/loop-queries';
import { LoopRepository } from '../store/loop.repository';
import { LOOP_PUBLISH, type LoopPublish } from './loop-scheduler';
import { LoopOpener } from './loop-opener';

/** A loop opened by a person (POST /api/triggers/:model/run), under the same debounce and cooldown as every trigger. */
@Injectable()
export class ManualTrigger {
  constructor(
    private readonly loops: LoopRepository,
    private readonly opener: LoopOpener,
    private readonly queries: LoopQueries,
    @Inject(LOOP_PUBLISH) private readonly publish: LoopPublish,
    @Inject(LOOP_CLOCK) private readonly now: LoopClock,
  ) {}

  /** Opens the loop and publishes its retrain.requested; a FailedPreconditionError when debounce or cooldown holds it back. */
  async run(model: string, reason: string | undefined): Promise<LoopSummary> {
    const id = randomUUID();
    const at = this.now();
    const why = reason ? `requested by hand: ${reason}` : 'requested by hand';
    const committed: AfterCommit = [];
    const decision = await this.loops.transaction((tx) =>
      this.opener.open(
        tx,
        {
          model,
          trigger: 'manual',
          correlationId: id,
          triggerEventId: `manual:${model}:${id}`,
          at,
          version: null,
          driftedFeatures: [],
          reason: why,
          stage: (correlationId, extra) => ({
            correlationId,
            type: 'trigger.manual',
            eventId: null,
            source: SERVICE,
            at,
            facts: JSON.stringify(reason ? { reason } : {}),
            ignored: extra?.ignored ?? false,
            note: extra?.note ?? null,
          }),
        },
        committed,
      ),
    );
    committed.forEach((after) => after());
    if (!decision.opened) throw new FailedPreconditionError(`no loop opened for ${model}: ${decision.note}`);
    if (decision.retrain) await this.publish([decision.retrain]);
    const [summary] = await this.queries.list({ model, limit: 1 });
    return summary!;
  }
}
