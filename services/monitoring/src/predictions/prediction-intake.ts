import { Inject, Injectable } from '@nestjs/common';
import type { EventEnvelope } from '@mlops/contracts';
import { CanaryWatch } from '../canary/canary-watch';
import { DriftHistory } from '../drift/drift-history';
import { DriftWatch } from '../drift/drift-watch';
import { CLOCK, type Clock } from '../monitoring.tokens';
import { LabelJoin } from '../performance/label-join';
import { ReferenceResolver } from '../references/reference-resolver';
import { loggedRows } from './logged-rows';

/**
 * The prediction path (O(1) per row): drift windows, the label join, the canary count, for
 * each sampled row of a prediction.logged (v2: a request's tensors; v1: one row). Returns a
 * promise only when something must be stored or published.
 */
@Injectable()
export class PredictionIntake {
  constructor(
    private readonly drift: DriftWatch,
    private readonly history: DriftHistory,
    private readonly references: ReferenceResolver,
    private readonly labels: LabelJoin,
    private readonly canaries: CanaryWatch,
    @Inject(CLOCK) private readonly now: Clock,
  ) {}

  onPrediction(event: EventEnvelope<'prediction.logged'>): Promise<void> | undefined {
    const rows = loggedRows(event.data);
    const { model, version } = rows;
    const { drifts, windows, learned } = this.drift.onPredictions(rows, event.time);
    if (learned) this.references.referenceLearned(model, version, learned);
    const now = this.now();
    const work: Promise<void>[] = [];
    for (let k = 0; k < rows.length; k++) {
      const joined = this.labels.onPrediction(rows.predictionId(k), model, version, rows.outputs(k), now);
      if (joined) work.push(joined);
      const counted = this.canaries.onPrediction(model, version, now);
      if (counted) work.push(counted);
    }
    for (const window of windows ?? []) work.push(this.history.record(window));
    for (const drift of drifts ?? []) work.push(this.drift.publish(drift, now));
    if (work.length === 0) return undefined;
    return work.length === 1 ? work[0] : Promise.all(work).then(() => undefined);
  }
}
