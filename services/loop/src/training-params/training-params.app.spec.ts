import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus, InProcessTransport, type Subscription } from '@mlops/bus';
import { createEvent, decodeEvent, type AnyEvent, type EventEnvelope } from '@mlops/contracts';
import { waitFor } from '../../../../test/support/wait-for';
import { startLoop, type LoopApp } from '../loop.app';
import { loadLoopConfig } from '../loop.config';

const T0 = Date.UTC(2026, 0, 1);

describe('training params of retrains: PUT /api/models/:model/training-params, carried by retrain.requested', () => {
  let dir: string;
  let transport: InProcessTransport;
  let loop: LoopApp;
  let observer: EventBus;
  let subscription: Subscription;
  const retrains: EventEnvelope<'retrain.requested'>[] = [];

  const request = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${loop.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const drift = (model: string, correlationId: string) =>
    createEvent('drift.detected', {
      source: 'test',
      subject: model,
      correlationId,
      time: new Date(T0),
      data: {
        model,
        version: 1,
        window: { start: new Date(T0 - 1000).toISOString(), end: new Date(T0).toISOString(), size: 300 },
        datasetDrift: { share: 1, threshold: 0.5 },
        features: [{ feature: 'f0', statistic: 'ks', value: 0.41, threshold: 0.05, drifted: true }],
      },
    }) as AnyEvent;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'loop-params-'));
    transport = new InProcessTransport();
    loop = await startLoop(
      loadLoopConfig({ BUS: 'in-process', DATABASE_URL: `sqlite:${join(dir, 'loop.db')}`, LOOP_PORT: '0', LOOP_FEATURE_VIEWS: 'churn:churn_features,fraud:tx_features' }),
      { inProcess: transport, logger: false, defaultMetrics: false, now: () => T0 },
    );
    observer = new EventBus(transport);
    subscription = await observer.subscribe({
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
    await observer.publish(drift('churn', 'loop-churn'));
    await observer.publish(drift('fraud', 'loop-fraud'));
    const churn = await waitFor(() => retrains.find((r) => r.correlationId === 'loop-churn'), 'retrain.requested of churn');
    expect(churn.data).toMatchObject({ model: 'churn', featureView: 'churn_features', params: { algorithm: 'mlp', hiddenLayers: [16], epochs: 150, seed: 7 } });
    const fraud = await waitFor(() => retrains.find((r) => r.correlationId === 'loop-fraud'), 'retrain.requested of fraud');
    expect(fraud.data).toMatchObject({ model: 'fraud', featureView: 'tx_features' });
    expect(fraud.data.params).toBeUndefined();
  });
});
