import { waitFor } from '../../../../test/support/wait-for';
import { driftOf, LoopHarness } from '../test/loop-harness';

const T0 = Date.UTC(2026, 0, 1);

describe('training params of retrains: PUT /api/models/:model/training-params, carried by retrain.requested', () => {
  let h: LoopHarness;
  const request = (method: string, path: string, body?: unknown) => h.call(method, path, body);
  const drift = (model: string, correlationId: string) => driftOf(model, correlationId, new Date(T0));

  beforeAll(async () => {
    h = await LoopHarness.start('loop-params', { LOOP_FEATURE_VIEWS: 'churn:churn_features,fraud:tx_features' }, { now: () => T0 });
  });
  afterAll(() => h?.close());

  it('a model has none until set; PUT stores them, GET reads them back', async () => {
    expect(await request('GET', '/api/models/churn/training-params')).toEqual({ status: 200, body: { model: 'churn', params: {}, from: 'none' } });
    const params = { algorithm: 'mlp', hiddenLayers: [16], epochs: 150, seed: 7 };
    const put = await request('PUT', '/api/models/churn/training-params', { params });
    expect(put).toMatchObject({ status: 200, body: { model: 'churn', params, from: 'api', updatedAt: new Date(T0).toISOString() } });
    expect((await request('GET', '/api/models/churn/training-params')).body).toMatchObject({ params, from: 'api' });
  });

  it('refuses params that are not an object, naming the field; a refused PUT changes nothing', async () => {
    const bad = await request('PUT', '/api/models/churn/training-params', { params: [1, 2] });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('params');
    expect((await request('PUT', '/api/models/churn/training-params', { epochs: 3 })).status).toBe(400);
    expect((await request('PUT', '/api/models/bad%20name/training-params', { params: {} })).status).toBe(400);
    expect((await request('GET', '/api/models/churn/training-params')).body).toMatchObject({ params: { epochs: 150 } });
  });

  it("a drift's retrain.requested carries the model's params; a model without any sends none (the trainer's defaults)", async () => {
    await h.bus.publish(drift('churn', 'loop-churn'));
    await h.bus.publish(drift('fraud', 'loop-fraud'));
    const churn = await waitFor(() => h.retrains.find((r) => r.correlationId === 'loop-churn'), 'retrain.requested of churn');
    expect(churn.data).toMatchObject({ model: 'churn', featureView: 'churn_features', params: { algorithm: 'mlp', hiddenLayers: [16], epochs: 150, seed: 7 } });
    const fraud = await waitFor(() => h.retrains.find((r) => r.correlationId === 'loop-fraud'), 'retrain.requested of fraud');
    expect(fraud.data).toMatchObject({ model: 'fraud', featureView: 'tx_features' });
    expect(fraud.data.params).toBeUndefined();
  });
});
