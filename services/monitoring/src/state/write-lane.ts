import { Injectable } from '@nestjs/common';

/**
 * The monitor's store writes (and what depends on their order) run one at a time, whichever
 * use case asks: lineage, deployments, champions, labels, canary verdicts and counts, drift
 * decisions, references.
 */
@Injectable()
export class WriteLane {
  private lane: Promise<unknown> = Promise.resolve();

  /** Runs `work` after every write queued before it (a failed one does not stop the lane). */
  run<T>(work: () => Promise<T>): Promise<T> {
    const run = this.lane.catch(() => undefined).then(work);
    this.lane = run;
    return run;
  }
}
