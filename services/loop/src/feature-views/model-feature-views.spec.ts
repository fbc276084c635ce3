import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus, InProcessTransport, type Subscription } from '@mlops/bus';
import { createEvent, decodeEvent, type EventEnvelope } from '@mlops/contracts';
import { waitFor } from '../../../../test/support/wait-for';
import { startLoop, type LoopApp } from '../loop.app';
import { loadLoopConfig } from '../loop.config';

describe('the feature view a model retrains from, set at run time (PUT/GET /api/models/:model/feature-view)', () => {
  let dir: string;
  let transport: InProcessTransport;
  let loop: LoopApp | undefined;
  let bus: EventBus;
  let subscription: Subscription;
  const defined = ['churn_features', 'pricing_features'];
  const retrains: EventEnvelope<'retrain.requested'>[] = [];

  const start = async () => {
    loop = await startLoop(
      loadLoopConfig({ BUS: 'in-process', DATABASE_URL: `sqlite:${join(dir, 'loop.db')}`, LOOP_PORT: '0', LOOP_FEATURE_VIEWS: 'churn:churn_features' }),
      { inProcess: transport, logger: false, defaultMetrics: false, featureViews: { names: async () => defined } },
    );
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const call = (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> =>
    fetch(`${loop!.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) }).then(async (r) => ({
      status: r.status,
      body: await r.json(),
    }));
  const drift = (model: string, correlationId: string) =>
    createEvent('drift.detected', {
      source: 'monitoring',
      subject: model,
      correlationId,
      data: {
        model,
        version: 1,
        window: { start: new Date(Date.now() - 1000).toISOString(), end: new Date().toISOString(), size: 100 },
        datasetDrift: { share: 1, threshold: 0.5 },
        features: [{ feature: 'f0', statistic: 'ks', value: 0.5, threshold: 0.05, drifted: true }],
      },
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'loop-views-'));
    transport = new InProcessTransport();
    bus = new EventBus(transport);
    await start();
    subscription = await bus.subscribe({
      group: 'observer',
      topics: ['retrain.requested'],
      handle: async (m) => {
        const e = decodeEvent(m.value);
        if (e.type === 'retrain.requested') retrains.push(e);
      },
    });
  });
  afterAll(async () => {
    await subscription?.stop();
    await loop?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers the LOOP_FEATURE_VIEWS default until one is set, and none for an unmapped model', async () => {
    expect(await call('GET', '/api/models/churn/feature-view')).toEqual({ status: 200, body: { model: 'churn', featureView: 'churn_features', from: 'LOOP_FEATURE_VIEWS' } });
    expect((await call('GET', '/api/models/pricing/feature-view')).body).toEqual({ model: 'pricing', featureView: null, from: 'none' });
  });

  it('sets a view the feature store defines, used by the next drift of the model, kept over a restart', async () => {
    const put = await call('PUT', '/api/models/pricing/feature-view', { featureView: 'pricing_features' });
    expect(put).toMatchObject({ status: 200, body: { model: 'pricing', featureView: 'pricing_features', from: 'api' } });
    await bus.publish(drift('pricing', 'loop-pricing-1'));
    const retrain = await waitFor(() => retrains.find((r) => r.correlationId === 'loop-pricing-1'), 'retrain.requested');
    expect(retrain.data).toMatchObject({ model: 'pricing', featureView: 'pricing_features' });

    await loop!.close();
    loop = undefined;
    await start();
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
