import { waitFor } from '../../../../test/support/wait-for';
import { driftOf, LoopHarness } from '../test/loop-harness';

describe('the feature view a model retrains from, set at run time (PUT/GET /api/models/:model/feature-view)', () => {
  const defined = ['churn_features', 'pricing_features'];
  let h: LoopHarness;
  const call = (method: string, path: string, body?: unknown) => h.call(method, path, body);
  const drift = (model: string, correlationId: string) => driftOf(model, correlationId, new Date());

  beforeAll(async () => {
    h = await LoopHarness.start('loop-views', { LOOP_FEATURE_VIEWS: 'churn:churn_features' }, { featureViews: { names: async () => defined } });
  });
  afterAll(() => h?.close());

  it('answers the LOOP_FEATURE_VIEWS default until one is set, and none for an unmapped model', async () => {
    expect(await call('GET', '/api/models/churn/feature-view')).toEqual({ status: 200, body: { model: 'churn', featureView: 'churn_features', from: 'LOOP_FEATURE_VIEWS' } });
    expect((await call('GET', '/api/models/pricing/feature-view')).body).toEqual({ model: 'pricing', featureView: null, from: 'none' });
  });

  it('sets a view the feature store defines, used by the next drift of the model, kept over a restart', async () => {
    const put = await call('PUT', '/api/models/pricing/feature-view', { featureView: 'pricing_features' });
    expect(put).toMatchObject({ status: 200, body: { model: 'pricing', featureView: 'pricing_features', from: 'api' } });
    await h.bus.publish(drift('pricing', 'loop-pricing-1'));
    const retrain = await waitFor(() => h.retrains.find((r) => r.correlationId === 'loop-pricing-1'), 'retrain.requested');
    expect(retrain.data).toMatchObject({ model: 'pricing', featureView: 'pricing_features' });

    await h.restart();
    expect((await call('GET', '/api/models/pricing/feature-view')).body).toMatchObject({ featureView: 'pricing_features', from: 'api' });
  });

  it('refuses a view the feature store does not define, or a bad body, naming the field and changing nothing', async () => {
    const unknown = await call('PUT', '/api/models/churn/feature-view', { featureView: 'nope' });
    expect([unknown.status, unknown.body.issues[0].field, unknown.body.message]).toEqual([400, 'featureView', expect.stringContaining('churn_features, pricing_features')]);
    const bad = await call('PUT', '/api/models/churn/feature-view', { view: 'churn_features' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('view');
    expect((await call('GET', '/api/models/churn/feature-view')).body).toMatchObject({ featureView: 'churn_features', from: 'LOOP_FEATURE_VIEWS' });
  });
});
