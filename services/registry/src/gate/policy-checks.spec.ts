import { InvalidInputError } from '@mlops/errors';
import { canonicalPolicy, effectivePolicy, parseReleasePolicy } from '../policy/release-policy';
import { decisionReason, LATENCY_PENDING, policyChecks, withServingCheck } from './policy-checks';

const defaults = { policy: {}, metric: 'accuracy', tolerance: 0.01 };
const candidate = (metrics: Record<string, number>, modelBytes = 1_000) => ({ metrics, modelBytes, lowerIsBetter: ['rmse'] });

describe('release policy checks', () => {
  it('absolute thresholds: min and max each a check, a missing metric fails', () => {
    const policy = effectivePolicy(parseReleasePolicy({ thresholds: [{ metric: 'f1', min: 0.85 }, { metric: 'accuracy', min: 0.5, max: 0.95 }, { metric: 'auc', min: 0.7 }] }), defaults);
    const checks = policyChecks(policy, candidate({ f1: 0.8, accuracy: 0.97 }));
    expect(checks.map((c) => [c.name, c.passed, c.measured, c.bound])).toEqual([
      ['threshold:f1:min', false, 0.8, 0.85],
      ['threshold:accuracy:min', true, 0.97, 0.5],
      ['threshold:accuracy:max', false, 0.97, 0.95],
      ['threshold:auc:min', false, null, 0.7],
    ]);
    expect(checks[3].detail).toBe('training reported no auc');
  });

  it('latency: pending at gate time whatever training reported (serving measures it during warm-up); serving`s report replaces it', () => {
    const policy = effectivePolicy({ latencyP99Ms: 5 }, defaults);
    const pending = { name: 'latency', passed: null, measured: null, bound: 5, detail: LATENCY_PENDING };
    expect(policyChecks(policy, candidate({ inference_p99_ms: 7 }))).toEqual([pending]);
    expect(policyChecks(policy, candidate({}))).toEqual([pending]);
    const measured = { name: 'latency', passed: false, measured: 7.5, bound: 5, detail: 'p99 7.5 ms > bound 5 ms' };
    const champion = { name: 'champion', passed: true, measured: 0.9, bound: null, detail: 'no champion yet' };
    expect(withServingCheck([champion, pending], measured)).toEqual([champion, measured]);
    expect(withServingCheck([champion], measured)).toEqual([champion, measured]);
    expect(decisionReason([champion, pending], 'no champion yet', 2)).toBe(`no champion yet; release policy version 2: 1 of 2 checks pass, 1 pending; latency ${LATENCY_PENDING}`);
    expect(decisionReason([champion, measured], 'no champion yet', 2)).toBe('failing checks of release policy version 2: latency (p99 7.5 ms > bound 5 ms); no champion yet');
  });

  it('size: the ONNX bytes under the bound', () => {
    const policy = effectivePolicy({ maxModelBytes: 2_000 }, defaults);
    expect(policyChecks(policy, candidate({}, 1_999))[0]).toMatchObject({ name: 'size', passed: true, measured: 1_999, bound: 2_000 });
    expect(policyChecks(policy, candidate({}, 2_001))[0]).toMatchObject({ name: 'size', passed: false });
  });

  it('fairness: the worst slice within maxGap of the overall metric, in the metric`s direction', () => {
    const policy = effectivePolicy({ slices: { column: 'region', metric: 'accuracy', maxGap: 0.05 } }, defaults);
    const metrics = { accuracy: 0.9, 'accuracy/region/eu': 0.93, 'accuracy/region/us': 0.8, 'accuracy/tier/a': 0.1 };
    const [check] = policyChecks(policy, candidate(metrics));
    expect(check).toMatchObject({ name: 'fairness', passed: false, bound: 0.05 });
    expect(check.measured).toBeCloseTo(0.1);
    expect(check.detail).toMatch(/^worst slice region us accuracy 0.8 vs overall 0.9/);
    expect(policyChecks(policy, candidate({ ...metrics, 'accuracy/region/us': 0.87 }))[0].passed).toBe(true);
    // rmse is lower-is-better: the worst slice is the highest.
    const rmse = effectivePolicy({ slices: { column: 'region', metric: 'rmse', maxGap: 0.5 } }, defaults);
    expect(policyChecks(rmse, candidate({ rmse: 1, 'rmse/region/eu': 0.2, 'rmse/region/us': 2 }))[0]).toMatchObject({ passed: false, measured: 1 });
    expect(policyChecks(policy, candidate({ accuracy: 0.9 }))[0]).toMatchObject({ passed: false, measured: null, detail: expect.stringContaining('params.slice_column "region"') });
  });

  it('defaults: the champion check from the config when the policy has none; only declared checks run', () => {
    const champion = { metric: 'accuracy', tolerance: 0.01 };
    expect(effectivePolicy(undefined, defaults)).toEqual({ champion });
    // REGISTRY_RELEASE_POLICY: its parts apply unless the model declares the same part.
    const configured = { ...defaults, policy: { latencyP99Ms: 50, thresholds: [{ metric: 'f1', min: 0.5 }] } };
    expect(effectivePolicy({ thresholds: [{ metric: 'auc', min: 0.7 }] }, configured)).toEqual({ champion, latencyP99Ms: 50, thresholds: [{ metric: 'auc', min: 0.7 }] });
    expect(effectivePolicy(undefined, { ...defaults, policy: { champion: { metric: 'f1', tolerance: 0.1 } } }).champion).toEqual({ metric: 'f1', tolerance: 0.1 });
    expect(effectivePolicy({ champion: { metric: 'f1', tolerance: 0 }, latencyP99Ms: 3 }, defaults)).toEqual({ champion: { metric: 'f1', tolerance: 0 }, latencyP99Ms: 3 });
    expect(policyChecks(effectivePolicy(undefined, defaults), candidate({ accuracy: 0.1 }))).toEqual([]);
  });

  it('the reason names the failing checks first', () => {
    const checks = policyChecks(effectivePolicy({ maxModelBytes: 10, thresholds: [{ metric: 'f1', min: 0.9 }] }, defaults), candidate({ f1: 0.5 }, 5));
    expect(decisionReason(checks, 'no champion yet', 3)).toBe('failing checks of release policy version 3: threshold:f1:min (f1 0.5 >= 0.9: no); no champion yet');
    expect(decisionReason([checks[1]], 'no champion yet', null)).toBe('no champion yet; the default policy: all 1 checks pass');
  });

  it('parsing: bad input names each field; equal policies have one canonical text', () => {
    const error = (() => {
      try {
        parseReleasePolicy({ thresholds: [{ metric: 'f1' }], latencyP99Ms: -1, slices: { column: 'region' }, extra: 1 });
      } catch (e) {
        return e as InvalidInputError;
      }
    })();
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error!.issues!.map((i) => i.field).sort()).toEqual(['(body)', 'latencyP99Ms', 'slices.maxGap', 'slices.metric', 'thresholds.0'].sort());
    expect(canonicalPolicy(parseReleasePolicy({ latencyP99Ms: 5, champion: { tolerance: 0, metric: 'f1' } }))).toBe(
      canonicalPolicy(parseReleasePolicy({ champion: { metric: 'f1', tolerance: 0 }, latencyP99Ms: 5 })),
    );
  });
});
