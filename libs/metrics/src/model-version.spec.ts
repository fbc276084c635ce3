import { createModelVersionMetrics } from './model-version';
import { createMetricsRegistry } from './registry';
import { parseExposition, samplesOf, valueOf } from './test/parse-exposition';

describe('model version gauges', () => {
  it('follows a canary rollout: stable and canary versions, traffic shares, then promotion', async () => {
    const registry = createMetricsRegistry({ service: 'serving', defaultMetrics: false });
    const models = createModelVersionMetrics(registry);
    models.setVersion('churn', 'stable', 1);
    models.setVersion('churn', 'canary', 2);
    models.setTrafficShare('churn', 1, 0.9);
    models.setTrafficShare('churn', 2, 0.1);

    let metrics = parseExposition(await registry.metrics());
    expect(valueOf(metrics, 'mlops_model_version', { model: 'churn', role: 'stable', service: 'serving' })).toBe(1);
    expect(valueOf(metrics, 'mlops_model_version', { model: 'churn', role: 'canary' })).toBe(2);
    expect(valueOf(metrics, 'mlops_model_traffic_share', { model: 'churn', version: '2' })).toBeCloseTo(0.1);

    models.setVersion('churn', 'stable', 2);
    models.clearRole('churn', 'canary');
    models.setTrafficShare('churn', 2, 1);
    models.clearVersion('churn', 1);

    metrics = parseExposition(await registry.metrics());
    expect(samplesOf(metrics, 'mlops_model_version').map((s) => [s.labels.role, s.value])).toEqual([['stable', 2]]);
    expect(samplesOf(metrics, 'mlops_model_traffic_share').map((s) => [s.labels.version, s.value])).toEqual([['2', 1]]);
  });

  it('rejects a version that is not a positive integer and a share outside 0..1', () => {
    const models = createModelVersionMetrics(createMetricsRegistry({ service: 's', defaultMetrics: false }));
    expect(() => models.setVersion('m', 'stable', 0)).toThrow(/version: expected a positive integer/);
    expect(() => models.setTrafficShare('m', 1, 1.5)).toThrow(/share: expected a number between 0 and 1/);
  });
});
