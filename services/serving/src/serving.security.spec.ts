import * as grpc from '@grpc/grpc-js';
import { InProcessTransport } from '@mlops/bus';
import { interopPython } from '../../../test/support/python';
import { freePort } from '../../../test/support/service-process';
import { call, inferenceClient, makeTestModels, type InferenceClient } from '../test/models';
import { startServing, type ServingApp } from './serving.app';
import { loadServingConfig } from './serving.config';

const TOKEN = 'serving-test-token-0123456789';

function callWith(client: InferenceClient, method: string, request: unknown, metadata: grpc.Metadata): Promise<unknown> {
  return new Promise((done, fail) =>
    (client[method] as (r: unknown, m: grpc.Metadata, cb: (e: grpc.ServiceError | null, v: unknown) => void) => void)(request, metadata, (e, v) => (e ? fail(e) : done(v))),
  );
}

describe('serving with API_TOKEN and SERVING_METRICS_PORT', () => {
  let serving: ServingApp;
  let client: InferenceClient;
  const request = { model_name: 'churn', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 30], contents: { fp32_contents: Array.from({ length: 30 }, (_, i) => i / 30) } }] };

  beforeAll(async () => {
    const models = makeTestModels(interopPython());
    serving = await startServing(
      loadServingConfig({ SERVING_GRPC_PORT: String(await freePort()), SERVING_MODELS: `churn=${models.logregV1}`, API_TOKEN: TOKEN, SERVING_METRICS_PORT: '0' }),
      { inProcess: new InProcessTransport(), logger: false },
    );
    client = inferenceClient(serving.address);
  }, 60_000);
  afterAll(async () => {
    client?.close();
    await serving?.close();
  });

  it('refuses ModelInfer without the bearer token (UNAUTHENTICATED) and answers it with the token', async () => {
    await expect(call(client, 'ModelInfer', request)).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${TOKEN}`);
    await expect(callWith(client, 'ModelInfer', request, metadata)).resolves.toMatchObject({ model_name: 'churn', model_version: '1' });
  });

  it('leaves the liveness and readiness probes open', async () => {
    expect(await call(client, 'ServerLive', {})).toEqual({ live: true });
    expect(await call(client, 'ServerReady', {})).toEqual({ ready: true });
  });

  it('counts calls by method and code on the Prometheus scrape', async () => {
    const text = await (await fetch(`http://127.0.0.1:${serving.metricsPort}/metrics`)).text();
    expect(text).toMatch(/mlops_grpc_server_handled_total\{[^}]*grpc_method="ModelInfer"[^}]*grpc_code="OK"[^}]*\} 1/);
    expect(text).toMatch(/mlops_grpc_server_handled_total\{[^}]*grpc_method="ServerLive"[^}]*\} 1/);
  });
});
