import { readFile } from 'node:fs/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { NotFoundError } from '@mlops/errors';
import { ContentStore } from '../artifacts/artifact-store';
import { ModelCatalog } from '../catalog/model-catalog';
import { holdoutAccuracy, openModel, type Holdout } from '../onnx/onnx-model';
import { ReleasePolicies } from '../policy/release-policies';
import { SERVICE } from '../registry.names';
import { REGISTRY_SETTINGS, type RegistrySettings } from '../registry.settings';
import type { GateDecisionRow, ModelVersionRow } from '../store/entities';
import { GateDecisionRepository } from '../store/gate-decision.repository';
import type { RegistryTx } from '../store/registry.transactions';
import { decisionReason, failedChecksOf, pendingChecksOf, policyChecks, recordedChecks, withServingCheck, type PolicyCheck } from './policy-checks';

/** A gate decision before it is recorded against a version. */
export type GateDecision = Omit<GateDecisionRow, 'name' | 'version'>;

/** A candidate as the gate sees it: its model name, onnxruntime session, ONNX size and the metrics training reported. */
export interface GateCandidate {
  model: string;
  session: Awaited<ReturnType<typeof openModel>>['session'];
  metrics: Record<string, number>;
  modelBytes: number;
}

/**
 * The quality gate: every check of the model's release policy (thresholds, latency, size,
 * fairness) and the champion comparison (candidate vs champion on the policy's metric, both
 * scored the same way: on the holdout, or as reported by training), and the decisions
 * (registry_gate_decisions). One failing check rejects the candidate.
 */
@Injectable()
export class QualityGate {
  private readonly gate: RegistrySettings['gate'];
  private readonly log = new Logger(SERVICE);

  constructor(
    private readonly decisions: GateDecisionRepository,
    private readonly catalog: ModelCatalog,
    private readonly store: ContentStore,
    private readonly policies: ReleasePolicies,
    @Inject(REGISTRY_SETTINGS) settings: RegistrySettings,
  ) {
    this.gate = settings.gate;
  }

  /** Every check of the model's release policy on the candidate; passed only when all pass. */
  async evaluate(candidate: GateCandidate, champion: ModelVersionRow | null): Promise<GateDecision> {
    const policy = await this.policies.inForce(candidate.model);
    const compared = await this.compare(candidate, champion, policy.effective.champion);
    const checks = [compared.check, ...policyChecks(policy.effective, { metrics: candidate.metrics, modelBytes: candidate.modelBytes, lowerIsBetter: this.gate.lowerIsBetter })];
    // A pending check (latency, measured by serving) does not hold the candidate back here.
    const passed = checks.every((c) => c.passed !== false);
    const reason = decisionReason(checks, compared.reason, policy.version);
    this.log.log(`gate for a candidate of model ${candidate.model}: ${passed ? 'pass' : 'reject'}: ${reason}`);
    return { ...compared.decision, passed, reason, checks: JSON.stringify(checks), policyVersion: policy.version };
  }

  /** Candidate vs champion on the policy's metric; both scored the same way. */
  private async compare(candidate: GateCandidate, champion: ModelVersionRow | null, policy: { metric: string; tolerance: number }) {
    const { metric, tolerance } = policy;
    const higherIsBetter = !this.gate.lowerIsBetter.includes(metric);
    const holdout = metric === 'accuracy' ? await this.readHoldout() : undefined;
    const base = { metric, tolerance, higherIsBetter, decidedAt: Date.now() };
    let candidateScore: number | undefined;
    let championScore: number | undefined;
    let basis: string;
    if (holdout) {
      basis = 'holdout';
      candidateScore = await holdoutAccuracy(candidate.session, holdout);
      if (champion) {
        const { session } = await openModel(await this.store.read(champion.artifactHash));
        try {
          championScore = await holdoutAccuracy(session, holdout);
        } finally {
          await session.release().catch(() => undefined);
        }
      }
    } else {
      basis = 'reported';
      candidateScore = candidate.metrics[metric];
      if (champion) championScore = (JSON.parse(champion.metrics) as Record<string, number>)[metric];
    }
    const how = basis === 'holdout' ? `accuracy on the holdout ${this.gate.holdoutPath} (${holdout!.labels.length} rows)` : `${metric} as reported by training`;
    const bound = championScore === undefined || !Number.isFinite(championScore) ? null : higherIsBetter ? championScore - tolerance : championScore + tolerance;
    const outcome = (passed: boolean, reason: string) => ({
      reason,
      check: { name: 'champion', passed, measured: candidateScore ?? null, bound, detail: reason } satisfies PolicyCheck,
      decision: {
        ...base,
        basis: champion ? basis : 'no-champion',
        candidateScore: candidateScore ?? null,
        championVersion: champion?.version ?? null,
        championScore: championScore ?? null,
      },
    });
    if (!champion) return outcome(true, `no champion yet: the candidate passes (candidate ${how}: ${candidateScore ?? 'n/a'})`);
    if (candidateScore === undefined || !Number.isFinite(candidateScore)) {
      return outcome(false, `the candidate has no ${metric} (${how}); it cannot be compared with champion version ${champion.version}`);
    }
    if (championScore === undefined || !Number.isFinite(championScore)) {
      return outcome(true, `champion version ${champion.version} has no ${metric} (${how}); the candidate passes`);
    }
    const passed = higherIsBetter ? candidateScore >= championScore - tolerance : candidateScore <= championScore + tolerance;
    const direction = higherIsBetter ? 'higher is better' : 'lower is better';
    return outcome(
      passed,
      `${how}: candidate ${candidateScore} vs champion version ${champion.version} ${championScore} (${direction}, tolerance ${tolerance}): ${passed ? 'pass' : 'reject'}`,
    );
  }

  /** Records the decision made for a newly registered version, in its registration transaction. */
  async record(tx: RegistryTx, row: ModelVersionRow, decision: GateDecision): Promise<void> {
    await this.decisions.insert(tx, { name: row.name, version: row.version, ...decision });
  }

  /**
   * Serving's report of a check it made before routing the version (deployment.completed
   * `checks`): the decision's check of that name takes the measured value and outcome; a failed
   * one turns the decision failed, its reason naming the check. Returns the updated decision,
   * or null when the version has no decision (not registered from training).
   */
  async recordServingCheck(model: string, version: number, reported: PolicyCheck): Promise<GateDecisionRow | null> {
    const decision = await this.decisions.find(model, version);
    if (!decision) return null;
    const checks = withServingCheck(recordedChecks(decision) ?? [], reported);
    const champion = checks.find((c) => c.name === 'champion');
    const passed = checks.every((c) => c.passed !== false);
    const reason = decisionReason(checks, champion?.detail ?? `champion comparison: ${decision.reason}`, decision.policyVersion);
    await this.decisions.updateOutcome(model, version, { passed, reason, checks: JSON.stringify(checks) });
    if (reported.passed === false) {
      this.log.warn(`gate: version ${version} of '${model}' rejected by serving's warm-up: ${reported.detail}`);
    } else {
      this.log.log(`gate: version ${version} of '${model}': serving's warm-up measured ${reported.name}: ${reported.detail}`);
    }
    return { ...decision, passed, reason, checks: JSON.stringify(checks) };
  }

  /** The decision recorded for a version, if it was registered from training.completed. */
  decisionOf(row: ModelVersionRow): Promise<GateDecisionRow | null> {
    return this.decisions.find(row.name, row.version);
  }

  /** GET /models/:name/versions/:version/gate */
  async gateDecision(name: unknown, version: unknown) {
    const row = await this.catalog.version(name, version);
    const decision = await this.decisionOf(row);
    if (!decision) throw new NotFoundError(`model "${row.name}" version ${row.version} has no gate decision (it was not registered from training.completed)`);
    return gateJson(decision);
  }

  private async readHoldout(): Promise<Holdout | undefined> {
    if (!this.gate.holdoutPath) return undefined;
    const parsed = JSON.parse(await readFile(this.gate.holdoutPath, 'utf8')) as Holdout;
    if (!Array.isArray(parsed.inputs) || !Array.isArray(parsed.labels)) throw new Error(`${this.gate.holdoutPath}: expected {inputs: number[][], labels: number[]}`);
    return parsed;
  }
}

export function gateJson(d: GateDecisionRow) {
  return {
    model: d.name,
    version: d.version,
    passed: d.passed,
    decision: d.passed ? 'pass' : 'reject',
    metric: d.metric,
    basis: d.basis,
    higher_is_better: d.higherIsBetter,
    tolerance: d.tolerance,
    candidate_score: d.candidateScore,
    champion_version: d.championVersion,
    champion_score: d.championScore,
    reason: d.reason,
    decided_at: d.decidedAt,
    /** The release policy version checked against; null: the config's defaults. */
    policy_version: d.policyVersion ?? null,
    /** Every check with its measured value and bound (null for decisions made before release policies). */
    checks: recordedChecks(d),
    failed_checks: failedChecksOf(d),
    /** Checks not decided yet: latency, until serving reports its warm-up measurement. */
    pending_checks: pendingChecksOf(d),
  };
}
