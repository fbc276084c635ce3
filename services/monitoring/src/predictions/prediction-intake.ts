import { Inject, Injectable } from '@nestjs/common';
import type { EventEnvelope } from '@mlops/contracts';
import { CanaryWatch } from '../canary/canary-watch';
import { DriftWatch } from '../drift/drift-watch';
import { CLOCK, type Clock } from '../monitoring.tokens';
import { LabelJoin } from '../performance/label-join';
import { ReferenceResolver } from '../references/reference-resolver';

/**
 * The per-prediction path (must stay O(1)): drift window, the label join, the canary count.
 * Returns a promise only when something must be stored or published.
 */
@Injectable()
export class PredictionIntake {
  constructor(
    private readonly drift: DriftWatch,
    private readonly references: ReferenceResolver,
    private readonly labels: LabelJoin,
    private readonly canaries: CanaryWatch,
    @Inject(CLOCK) private readonly now: Clock,
  ) {}

  onPrediction(event: EventEnvelope<'prediction.logged'>): Promise<void> | undefined {
    const { model, version } = event.data;
    const { drift, learned } = this.drift.onPrediction(event);
    if (learned) this.references.referenceLearned(model, version, learned);
    const now = this.now();
    const work: Promise<void>[] = [];
    const joined = this.labels.onPrediction(event, now);
    if (joined) work.push(joined);
    const counted = this.canaries.onPrediction(model, version, now);
    if (counted) work.push(counted);
    if (drift) work.push(this.drift.publish(drift, now));
    if (work.length === 0) return undefined;
    return work.length === 1 ? work[0] : Promise.all(work).then(() => undefined);
  }
}
