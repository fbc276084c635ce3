import { InProcessTransport } from '@mlops/bus';
import { infraEnv } from '../../../../test/infra/infra-env';
import { startLoop, type LoopApp } from '../loop.app';
import { loadLoopConfig } from '../loop.config';

describe('the feature view a model retrains from, on Postgres (loop_feature_views migration, kept over a restart)', () => {
  const infra = infraEnv();
  const model = `views_it_${Date.now()}`;
  let loop: LoopApp | undefined;

  const start = async () => {
    loop = await startLoop(loadLoopConfig({ BUS: 'in-process', DATABASE_URL: infra.DATABASE_URL, LOOP_PORT: '0', LOOP_FEATURE_VIEWS: 'fallback_view' }), {
      inProcess: new InProcessTransport(),
      logger: false,
      defaultMetrics: false,
    });
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const call = (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> =>
    fetch(`${loop!.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) }).then(async (r) => ({
      status: r.status,
      body: await r.json(),
    }));

  afterAll(() => loop?.close());

  it('stores the choice, overrides the default, and keeps it over a restart', async () => {
    await start();
    expect((await call('GET', `/api/models/${model}/feature-view`)).body).toEqual({ model, featureView: 'fallback_view', from: 'LOOP_FEATURE_VIEWS' });
    // LOOP_FEATURE_STORE_URL is unset: the name is not checked against a feature store.
    expect((await call('PUT', `/api/models/${model}/feature-view`, { featureView: 'first_view' })).status).toBe(200);
    expect((await call('PUT', `/api/models/${model}/feature-view`, { featureView: 'second_view' })).body).toMatchObject({ featureView: 'second_view', from: 'api' });
    await loop!.close();
    loop = undefined;
    await start();
    expect((await call('GET', `/api/models/${model}/feature-view`)).body).toMatchObject({ model, featureView: 'second_view', from: 'api' });
  });
});
