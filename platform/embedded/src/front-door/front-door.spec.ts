import { mkdtempSync, rmSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessTransport } from '@mlops/bus';
import { loadIngestionConfig, startIngestion, type IngestionApp } from '@mlops/service-ingestion';
import { loadRegistryConfig, startRegistry, type RegistryApp } from '@mlops/service-registry';
import { startFrontDoor, type FrontDoor } from './front-door';
import { routeOf } from './routes';

const TOKEN = 'ingestion-secret';

/**
 * The embedded front door with real services mounted (no ports of their own): routing, and each
 * service keeping its own auth, body limit, metrics and error answers behind the one port.
 */
describe('embedded front door: real services mounted on one HTTP port', () => {
  const transport = new InProcessTransport();
  let dir: string;
  let front: FrontDoor;
  let ingestion: IngestionApp;
  let registry: RegistryApp;
  const mountApp = (app: { getHttpAdapter(): { getInstance(): unknown } }) => app.getHttpAdapter().getInstance() as RequestListener;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'front-door-'));
    front = await startFrontDoor({ port: 0 });
  });
  afterAll(async () => {
    await ingestion?.close();
    await registry?.close();
    await front?.close();
    await transport.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 naming a service that is not mounted yet, then serves it once mounted', async () => {
    const before = await fetch(`${front.url}/registry/health/ready`);
    expect(before.status).toBe(503);
    expect(await before.json()).toMatchObject({ error_code: 'TEMPORARILY_UNAVAILABLE', message: 'registry is not started yet' });

    registry = await startRegistry(
      loadRegistryConfig({ BUS: 'in-process', DATABASE_URL: `sqlite:${join(dir, 'registry.db')}`, REGISTRY_ARTIFACT_ROOT: join(dir, 'registry') }),
      { inProcess: transport, logger: false, mountedAt: front.urlOf('registry') },
    );
    ingestion = await startIngestion(
      loadIngestionConfig({ BUS: 'in-process', DATABASE_URL: `sqlite:${join(dir, 'ingestion.db')}`, API_TOKEN: TOKEN, INGESTION_BODY_LIMIT: '1kb' }),
      { inProcess: transport, logger: false, mountedAt: front.urlOf('ingestion') },
    );
    expect([registry.url, ingestion.url]).toEqual([`${front.url}/registry`, `${front.url}/ingestion`]);
    front.mount('registry', mountApp(registry.app));
    front.mount('ingestion', mountApp(ingestion.app));
    expect((await fetch(`${front.url}/registry/health/ready`)).status).toBe(200);
    expect(routeOf('/registry/health/ready')).toEqual({ service: 'registry', url: '/health/ready' });
  });

  it('sends MLflow registry paths to the registry unchanged, and its own routes without the /registry prefix', async () => {
    const created = await fetch(`${front.url}/api/2.0/mlflow/registered-models/create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'churn' }),
    });
    expect(created.status).toBe(200);
    const viaPrefix = await fetch(`${front.url}/registry/api/2.0/mlflow/registered-models/get?name=churn`);
    expect(((await viaPrefix.json()) as { registered_model: { name: string } }).registered_model.name).toBe('churn');
    const gate = await fetch(`${front.url}/registry/models/churn/versions/9/gate`);
    expect(gate.status).toBe(404);
    expect(await gate.json()).toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST' });
    // Its OpenAPI document under its prefix, describing its own (unprefixed) paths.
    const openapi = (await (await fetch(`${front.url}/registry/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/models/{name}/versions/{version}/gate', '/api/2.0/mlflow/registered-models/create']));
  });

  it('keeps each service\'s own bearer token and body limit: ingestion\'s guard and limit, the registry open', async () => {
    expect((await fetch(`${front.url}/ingestion/sources`)).status).toBe(401);
    expect((await fetch(`${front.url}/ingestion/health/ready`)).status).toBe(200);
    expect((await fetch(`${front.url}/ingestion/sources`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    const tooLarge = await fetch(`${front.url}/ingestion/sources/clicks/records`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ records: [{ pad: 'x'.repeat(2_000) }] }),
    });
    // Refused by ingestion's own body parser at its 1kb limit.
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toEqual({ error_code: 'REQUEST_LIMIT_EXCEEDED', message: expect.stringMatching(/ is over the 1024-byte limit$/) });
    expect((await fetch(`${front.url}/registry/models/churn/versions/9/lineage`)).status).toBe(404);
  });

  it('counts requests in the service\'s own metrics under the route as the service declares it (no prefix)', async () => {
    await fetch(`${front.url}/registry/models/churn/versions/9/gate`);
    const metrics = await (await fetch(`${front.url}/registry/metrics`)).text();
    expect(metrics).toMatch(/mlops_http_requests_total\{[^}]*route="\/models\/:name\/versions\/:version\/gate"[^}]*status="404"/);
    expect(metrics).not.toMatch(/route="\/registry\//);
  });

  it('answers the index at /, its own /healthz, and 404 for paths outside the table', async () => {
    expect((await fetch(`${front.url}/`)).status).toBe(200);
    expect(await (await fetch(`${front.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const unknown = await fetch(`${front.url}/nowhere/else`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error_code: 'ENDPOINT_NOT_FOUND' });
  });
});
