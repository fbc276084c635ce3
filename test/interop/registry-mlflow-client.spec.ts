import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { EventBus, InProcessTransport, type Subscription } from '@mlops/bus';
import { decodeEvent, type AnyEvent } from '@mlops/contracts';
import { loadRegistryConfig, startRegistry, type RegistryApp } from '@mlops/service-registry';
import { loadTrackingConfig, startTracking, type TrackingApp } from '@mlops/service-tracking';
import { interopPython } from '../support/python';

const run = promisify(execFile);
const SCRIPT = resolve(__dirname, 'registry/mlflow_registry_client.py');

/**
 * The official mlflow 3 client (MLFLOW_TRACKING_URI = our tracking, MLFLOW_REGISTRY_URI = our
 * registry, both real HTTP servers in this process) through the registry's MLflow routes:
 * models from `runs:/` sources read through tracking's artifact proxy, stages on aliases,
 * pyfunc loading by version, stage and alias, and a non-ONNX version accepted but not deployable.
 */
describe('registry with the official mlflow client (tracking + registry in-process)', () => {
  const seen: AnyEvent[] = [];
  let dir: string;
  let tracking: TrackingApp;
  let registry: RegistryApp;
  let subscription: Subscription;
  let out: any;

  beforeAll(async () => {
    const python = interopPython();
    dir = mkdtempSync(join(tmpdir(), 'registry-mlflow-'));
    tracking = await startTracking(
      loadTrackingConfig({ DATABASE_URL: 'sqlite::memory:', TRACKING_PORT: '0', TRACKING_ARTIFACT_ROOT: join(dir, 'tracking') }),
      { inProcess: new InProcessTransport(), logger: false },
    );
    const transport = new InProcessTransport();
    registry = await startRegistry(
      loadRegistryConfig({ DATABASE_URL: 'sqlite::memory:', REGISTRY_PORT: '0', REGISTRY_ARTIFACT_ROOT: join(dir, 'registry'), REGISTRY_TRACKING_URI: tracking.url }),
      { inProcess: transport, logger: false },
    );
    subscription = await new EventBus(transport).subscribe({
      group: 'observer',
      topics: ['model.registered', 'deployment.requested', 'model.promoted'],
      handle: async (m) => void seen.push(decodeEvent(m.value)),
    });
    const { stdout } = await run(python, [SCRIPT], {
      timeout: 150_000,
      env: { ...process.env, MLFLOW_TRACKING_URI: tracking.url, MLFLOW_REGISTRY_URI: registry.url, MODEL_NAME: 'fraud-interop', EXPERIMENT_NAME: 'registry-interop', GIT_PYTHON_REFRESH: 'quiet' },
    });
    out = JSON.parse(stdout.trim().split('\n').pop()!);
  }, 180_000);
  afterAll(async () => {
    await subscription?.stop();
    await registry?.close();
    await tracking?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('creates, searches (with the 3.x prompt clause), tags and renames registered models', () => {
    expect(out.search_all).toEqual(['fraud-interop']);
    expect(out.search_name).toEqual(['fraud-interop']);
    expect(out.search_tag).toEqual(['fraud-interop']);
    expect(out.renamed).toEqual({ name: 'fraud-interop-renamed', tags: { owner: 'interop' }, description: 'updated' });
    expect(out.old_name_error.code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect(out.bad_filter_error).toMatchObject({ code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('unsupported filter') });
  });

  it('registers ONNX versions from runs:/ sources (create_model_version and register_model), with lineage and the gate', () => {
    for (const v of [out.v1, out.v2]) expect(v).toMatchObject({ run_id: out.run_id, source: expect.stringMatching(/^(runs:\/|mlflow-artifacts:\/).*model$/) });
    expect(out.v1.version).toBe('1');
    expect(out.v2.version).toBe('2');
    expect(out.missing_run_error.code).toBe('RESOURCE_DOES_NOT_EXIST');
    const registered = seen.filter((e) => e.type === 'model.registered' && e.data.model === 'fraud-interop-renamed');
    expect(registered.map((e) => e.type === 'model.registered' && [e.data.version, e.data.runId, e.data.datasetHash, e.data.servable])).toEqual([
      [1, out.run_id, 'sha256:interop-data', undefined],
      [2, out.run_id, 'sha256:interop-data', undefined],
      [3, expect.any(String), undefined, false],
    ]);
    // The run reports accuracy, so version 1 was gated (no champion yet: pass, canary requested).
    const first = registered[0];
    expect(first.type === 'model.registered' && first.data.gate).toMatchObject({ passed: true, metric: 'accuracy' });
    expect(seen.some((e) => e.type === 'deployment.requested' && e.data.version === 1 && e.data.strategy === 'canary')).toBe(true);
  });

  it('maps stages onto aliases: Production = champion (promoted), Staging = challenger; get_latest_versions reads them', () => {
    expect(out.v1_production).toMatchObject({ current_stage: 'Production', aliases: ['champion'] });
    expect(out.v2_staging).toMatchObject({ current_stage: 'Staging', aliases: ['challenger'] });
    expect(out.latest_production).toEqual(['1']);
    expect(out.latest_staging).toEqual(['2']);
    expect(out.bad_stage_error).toMatchObject({ code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('Shipped') });
    expect(seen.some((e) => e.type === 'model.promoted' && e.data.version === 1 && e.data.alias === 'champion')).toBe(true);
    expect(out.by_alias_champion).toBe('1');
    expect(out.by_alias_blue).toBe('2');
    expect(out.deleted_alias_error.code).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  it('loads the model with mlflow.pyfunc by version, by stage and by alias, through tracking\'s artifact proxy', () => {
    expect(out.download_uri).toMatch(/^mlflow-artifacts:\/.+\/artifacts\/model$/);
    expect(out.expected_labels).toHaveLength(8);
    for (const labels of [out.labels_v1, out.labels_production, out.labels_champion]) expect(labels).toEqual(out.expected_labels);
  });

  it('accepts a non-ONNX version as MLflow does, marks it not servable and refuses to deploy it, saying how to fix it', () => {
    expect(out.v3).toMatchObject({ version: '3', current_stage: 'None', tags: { 'mlops.servable': 'false' } });
    expect(out.v3_labels).toEqual(out.expected_labels);
    for (const error of [out.v3_production_error, out.v3_champion_error]) {
      expect(error).toMatchObject({ code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('not servable') });
      expect(error.message).toContain('mlflow.onnx.log_model');
      expect(error.message).toContain('skl2onnx');
    }
    expect(seen.some((e) => (e.type === 'model.promoted' || e.type === 'deployment.requested') && e.data.version === 3)).toBe(false);
  });

  it('updates, tags and deletes versions and deletes the model', () => {
    expect(out.v2_edited).toMatchObject({ description: 'staged', tags: { validated: 'yes' } });
    expect(out.search_versions_tag).toEqual(['2']);
    expect(out.latest_by_order).toEqual(['3']);
    expect(out.versions_ascending).toEqual(['1', '2', '3']);
    expect(out.models_by_name_desc.length).toBeGreaterThan(1);
    expect(out.models_by_name_desc).toEqual([...out.models_by_name_desc].sort().reverse());
    expect(out.bad_order_error).toMatchObject({ code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('order_by') });
    expect(out.v2_tags_after_delete).toEqual({});
    expect(out.delete_champion_error).toMatchObject({ code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('champion') });
    expect(out.deleted_version_error.code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect(out.versions_left).toEqual(['1', '3']);
    expect(out.deleted_model_error.code).toBe('RESOURCE_DOES_NOT_EXIST');
  });
});
