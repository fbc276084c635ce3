import type { EffectivePolicy } from '../policy/release-policy';

/** One check of a release policy on a candidate, as the gate decision records it. */
export interface PolicyCheck {
  /** `champion`, `threshold:<metric>:min|max`, `latency`, `size` or `fairness`. */
  name: string;
  /** null: pending, measured later (latency: by serving during warm-up, see withServingCheck). */
  passed: boolean | null;
  /** What was measured (null when the candidate has no such measurement, or not yet). */
  measured: number | null;
  /** The bound it was held to (null when there was nothing to hold it to). */
  bound: number | null;
  /** For a person: what was compared with what. */
  detail: string;
}

/** What a pending latency check says until serving reports it. */
export const LATENCY_PENDING = 'pending: serving measures p99 latency during warm-up on the holdout, before the version takes traffic';

/** What the checks other than the champion comparison read of a candidate. */
export interface CandidateMeasurements {
  /** As reported by training (training.completed). */
  metrics: Record<string, number>;
  /** The ONNX artifact's size. */
  modelBytes: number;
  /** Metrics where lower is better (REGISTRY_LOWER_IS_BETTER). */
  lowerIsBetter: string[];
}

const has = (metrics: Record<string, number>, name: string) => typeof metrics[name] === 'number' && Number.isFinite(metrics[name]);

/** The absolute thresholds, latency, size and fairness checks of a policy (the champion check is the gate's). */
export function policyChecks(policy: EffectivePolicy, candidate: CandidateMeasurements): PolicyCheck[] {
  const { metrics } = candidate;
  const checks: PolicyCheck[] = [];
  for (const t of policy.thresholds ?? []) {
    for (const [side, bound] of [['min', t.min], ['max', t.max]] as const) {
      if (bound === undefined) continue;
      const name = `threshold:${t.metric}:${side}`;
      if (!has(metrics, t.metric)) {
        checks.push({ name, passed: false, measured: null, bound, detail: `training reported no ${t.metric}` });
        continue;
      }
      const measured = metrics[t.metric];
      const passed = side === 'min' ? measured >= bound : measured <= bound;
      checks.push({ name, passed, measured, bound, detail: `${t.metric} ${measured} ${side === 'min' ? '>=' : '<='} ${bound}: ${passed ? 'yes' : 'no'}` });
    }
  }
  // Held by serving, which times the version during warm-up: it does not fail the gate.
  if (policy.latencyP99Ms !== undefined) checks.push({ name: 'latency', passed: null, measured: null, bound: policy.latencyP99Ms, detail: LATENCY_PENDING });
  if (policy.maxModelBytes !== undefined) {
    const bound = policy.maxModelBytes;
    const passed = candidate.modelBytes <= bound;
    checks.push({ name: 'size', passed, measured: candidate.modelBytes, bound, detail: `ONNX model ${candidate.modelBytes} bytes ${passed ? '<=' : '>'} ${bound} bytes` });
  }
  if (policy.slices) checks.push(fairnessCheck(policy.slices, candidate));
  return checks;
}

/** The worst slice of the column within maxGap of the overall metric (metrics `<metric>/<column>/<value>`). */
function fairnessCheck(slices: NonNullable<EffectivePolicy['slices']>, candidate: CandidateMeasurements): PolicyCheck {
  const { column, metric, maxGap } = slices;
  const prefix = `${metric}/${column}/`;
  const perSlice = Object.entries(candidate.metrics).filter(([key, value]) => key.startsWith(prefix) && Number.isFinite(value));
  if (!has(candidate.metrics, metric) || perSlice.length === 0) {
    const missing = perSlice.length === 0 ? `no ${prefix}<value> metrics (train with params.slice_column "${column}")` : `no overall ${metric}`;
    return { name: 'fairness', passed: false, measured: null, bound: maxGap, detail: `training reported ${missing}` };
  }
  const lowerIsBetter = candidate.lowerIsBetter.includes(metric);
  const overall = candidate.metrics[metric];
  const [worstKey, worst] = perSlice.reduce((a, b) => ((lowerIsBetter ? b[1] > a[1] : b[1] < a[1]) ? b : a));
  const gap = Math.max(0, lowerIsBetter ? worst - overall : overall - worst);
  const passed = gap <= maxGap;
  return {
    name: 'fairness',
    passed,
    measured: gap,
    bound: maxGap,
    detail: `worst slice ${column} ${worstKey.slice(prefix.length)} ${metric} ${worst} vs overall ${overall}: gap ${gap} ${passed ? '<=' : '>'} ${maxGap}`,
  };
}

/** The checks a decision recorded (`checks` JSON); null for decisions made before release policies. */
export function recordedChecks(decision: { checks: string | null }): PolicyCheck[] | null {
  return decision.checks ? (JSON.parse(decision.checks) as PolicyCheck[]) : null;
}

/** The names of the failing checks a decision recorded (a pending one is not failing); null for decisions made before release policies. */
export function failedChecksOf(decision: { checks: string | null }): string[] | null {
  return recordedChecks(decision)?.filter((c) => c.passed === false).map((c) => c.name) ?? null;
}

/** The names of the checks still pending (latency until serving reports it); null for decisions made before release policies. */
export function pendingChecksOf(decision: { checks: string | null }): string[] | null {
  return recordedChecks(decision)?.filter((c) => c.passed === null).map((c) => c.name) ?? null;
}

/** The decision's reason: the failing checks named first, then the champion comparison, then what is pending. */
export function decisionReason(checks: PolicyCheck[], championReason: string, policyVersion: number | null): string {
  const failing = checks.filter((c) => c.passed === false);
  const pending = checks.filter((c) => c.passed === null);
  const policy = policyVersion === null ? 'the default policy' : `release policy version ${policyVersion}`;
  const later = pending.length ? `; ${pending.map((c) => `${c.name} ${c.detail}`).join('; ')}` : '';
  if (failing.length === 0) return `${championReason}; ${policy}: ${pending.length ? `${checks.length - pending.length} of ${checks.length} checks pass, ${pending.length} pending` : `all ${checks.length} checks pass`}${later}`;
  return `failing checks of ${policy}: ${failing.map((c) => `${c.name} (${c.detail})`).join(', ')}; ${championReason}${later}`;
}

/** The decision's checks with serving's report of one (deployment.completed `checks`): it replaces the pending check of that name, or is added. */
export function withServingCheck(checks: PolicyCheck[], reported: PolicyCheck): PolicyCheck[] {
  const at = checks.findIndex((c) => c.name === reported.name);
  return at < 0 ? [...checks, reported] : checks.map((c, i) => (i === at ? reported : c));
}
