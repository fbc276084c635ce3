import { Inject, Injectable, Optional } from '@nestjs/common';
import { GateLookup } from '../gate-lookup';
import { LoopCloser, type AfterCommit } from '../lifecycle/loop-closer';
import { GATE_REJECTED, SERVICE } from '../loop.names';
import { LOOP_CLOCK, LOOP_LOG, LOOP_SETTINGS, type LoopClock, type LoopLog, type LoopSettings } from '../loop.settings';
import type { LoopRow } from '../store/entities';
import { LoopRepository } from '../store/loop.repository';

/** Ends the loops that wait in vain: for the gate's decision, or for any progress at all. */
@Injectable()
export class LoopTimeouts {
  constructor(
    private readonly loops: LoopRepository,
    private readonly closer: LoopCloser,
    @Inject(LOOP_SETTINGS) private readonly settings: LoopSettings,
    @Inject(LOOP_CLOCK) private readonly now: LoopClock,
    @Inject(LOOP_LOG) private readonly log: LoopLog,
    /** Absent without LOOP_REGISTRY_URL: then only the gate wait ends a loop rejected_by_gate. */
    @Optional() private readonly gate?: GateLookup,
  ) {}

  /**
   * Ends loops that wait in vain: a candidate the gate rejected (the registry says so, or
   * no deployment.requested came within the gate wait) and loops with no progress for the
   * stall timeout. Returns how many loops it ended.
   */
  async sweep(): Promise<number> {
    const now = this.now();
    const open = await this.loops.open();
    let ended = 0;
    for (const loop of open) {
      if (loop.awaitingGateSince !== null && loop.candidateVersion !== null) {
        const verdict = await this.gateVerdict(loop, now);
        if (verdict) {
          // Not before the last stage: stage times come from event producers' clocks.
          const at = Math.max(now, loop.lastStageAt);
          const committed: AfterCommit = [];
          const done = await this.loops.transaction(async (tx) => {
            if (await this.loops.hasStage(tx, loop.correlationId, 'deployment.requested')) {
              await this.loops.update(tx, loop.correlationId, { awaitingGateSince: null });
              return false;
            }
            if (!(await this.closer.end(tx, loop, { outcome: 'rejected_by_gate', reason: verdict, at }, committed))) return false;
            await this.loops.insertStage(tx, {
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
      if (now - loop.lastStageAt >= this.settings.timeouts.stallTimeoutMs) {
        const reason = `no new stage for ${Math.round((now - loop.lastStageAt) / 1000)}s (LOOP_STALL_TIMEOUT_S)`;
        const committed: AfterCommit = [];
        const ending = { outcome: 'failed', reason, at: Math.max(now, loop.lastStageAt), stalled: true } as const;
        if (await this.loops.transaction((tx) => this.closer.end(tx, loop, ending, committed))) ended++;
        committed.forEach((count) => count());
      }
    }
    return ended;
  }

  /** Why the candidate counts as rejected by the gate, or undefined while that is not known. */
  private async gateVerdict(loop: LoopRow, now: number): Promise<string | undefined> {
    const version = loop.candidateVersion!;
    if (this.gate) {
      try {
        const decision = await this.gate.decision(loop.model, version);
        if (decision && !decision.passed) return `the registry's gate rejected version ${version}: ${decision.reason}`;
        if (decision?.passed) return undefined;
      } catch (error) {
        this.log.warn(`gate decision of ${loop.model} v${version} unavailable: ${(error as Error).message}`);
      }
    }
    if (now - loop.awaitingGateSince! < this.settings.timeouts.gateWaitMs) return undefined;
    return `no deployment.requested ${Math.round((now - loop.awaitingGateSince!) / 1000)}s after version ${version} was registered (and model.registered carried no gate decision): taken as rejected by the registry's gate`;
  }
}
