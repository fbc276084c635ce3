import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { InProcessTransport } from '@mlops/bus';
import { createEvent } from '@mlops/contracts';
import { interopPython } from '../../../../test/support/python';
import { readmeBlocks } from '../../../../test/support/readme';
import { startRegistry, type RegistryApp } from '../registry.app';
import { loadRegistryConfig } from '../registry.config';

/** Release policies on the registry (SQLite, in-process bus, real HTTP): versioned PUT/GET, and the gate checking each part. */
describe('registry release policy per model', () => {
  let registry: RegistryApp;
  let gateDir: string;
  let artifactRoot: string;

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Reply = { status: number; body: any };
  const call = (method: string, path: string, body?: unknown): Promise<Reply> =>
    fetch(`${registry.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: await r.json() }));
  const completed = (model: string, metrics: Record<string, number>) =>
    createEvent('training.completed', {
      source: 'trainer',
      subject: model,
      data: { jobId: `job-${Math.random().toString(36).slice(2)}`, model, runId: `run-${Math.random().toString(36).slice(2)}`, artifactUri: join(gateDir, 'good.onnx'), metrics, params: {} },
    });

  beforeAll(async () => {
    gateDir = mkdtempSync(join(tmpdir(), 'registry-policy-'));
    execFileSync(interopPython(), [resolve(__dirname, '../../../../test/fixtures/registry/make_gate_models.py'), gateDir], { stdio: 'pipe' });
    artifactRoot = mkdtempSync(join(tmpdir(), 'registry-policy-artifacts-'));
    registry = await startRegistry(
      loadRegistryConfig({ DATABASE_URL: 'sqlite::memory:', REGISTRY_PORT: '0', REGISTRY_ARTIFACT_ROOT: artifactRoot, REGISTRY_GATE_TOLERANCE: '0.02', REGISTRY_RELEASE_POLICY: '{"maxModelBytes": 100000000}' }),
      { inProcess: new InProcessTransport(), logger: false },
    );
  }, 120_000);
  afterAll(async () => {
    await registry?.close();
    for (const dir of [gateDir, artifactRoot]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('without a declared policy GET answers the defaults from config (REGISTRY_RELEASE_POLICY, the champion check of REGISTRY_GATE_*)', async () => {
    expect(await call('GET', '/models/nothing/policy')).toEqual({
      status: 200,
      body: { model: 'nothing', version: null, policy: {}, effective: { maxModelBytes: 100_000_000, champion: { metric: 'accuracy', tolerance: 0.02 } }, createdAt: null },
    });
    expect(() => loadRegistryConfig({ REGISTRY_RELEASE_POLICY: '{"latencyP99Ms": -1}' })).toThrow(/REGISTRY_RELEASE_POLICY.*latencyP99Ms/s);
    expect(() => loadRegistryConfig({ REGISTRY_RELEASE_POLICY: 'latency' })).toThrow(/REGISTRY_RELEASE_POLICY.*expected a JSON object/s);
  });

  it('PUT validates with zod, naming each field; bad input stores nothing', async () => {
    const bad = await call('PUT', '/models/versioned/policy', { latencyP99Ms: 0, thresholds: [{ metric: 'f1' }], maxModelBytes: 1.5 });
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i: { field: string }) => i.field).sort()).toEqual(['latencyP99Ms', 'maxModelBytes', 'thresholds.0']);
    expect((await call('GET', '/models/versioned/policy')).body.version).toBeNull();
    expect((await call('PUT', '/models/bad name/policy', {})).status).toBe(400);
  });

  it('each PUT that changes the policy stores a new version; an equal one (keys in any order) changes nothing', async () => {
    const first = await call('PUT', '/models/versioned/policy', { latencyP99Ms: 5, champion: { metric: 'f1', tolerance: 0 } });
    expect(first).toMatchObject({ status: 200, body: { model: 'versioned', version: 1, changed: true } });
    expect(first.body.effective).toEqual({ latencyP99Ms: 5, maxModelBytes: 100_000_000, champion: { metric: 'f1', tolerance: 0 } });
    const same = await call('PUT', '/models/versioned/policy', { champion: { tolerance: 0, metric: 'f1' }, latencyP99Ms: 5 });
    expect(same.body).toMatchObject({ version: 1, changed: false, createdAt: first.body.createdAt });
    const second = await call('PUT', '/models/versioned/policy', { maxModelBytes: 1000 });
    expect(second.body).toMatchObject({ version: 2, changed: true, policy: { maxModelBytes: 1000 }, effective: { maxModelBytes: 1000, champion: { metric: 'accuracy', tolerance: 0.02 } } });
    expect((await call('GET', '/models/versioned/policy')).body).toMatchObject({ version: 2, policy: { maxModelBytes: 1000 } });
    const history = await call('GET', '/models/versioned/policy/versions');
    expect(history.body.versions.map((v: { version: number; policy: object }) => [v.version, v.policy])).toEqual([
      [2, { maxModelBytes: 1000 }],
      [1, { champion: { metric: 'f1', tolerance: 0 }, latencyP99Ms: 5 }],
    ]);
  });

  it('a candidate that beats the champion check but fails fairness is rejected with that check named and measured, latency pending (serving measures it); no deployment.requested', async () => {
    await call('PUT', '/models/fair/policy', {
      thresholds: [{ metric: 'accuracy', min: 0.8 }],
      latencyP99Ms: 1,
      maxModelBytes: 10_000_000,
      slices: { column: 'region', metric: 'accuracy', maxGap: 0.05 },
    });
    const followUps = await registry.service.onTrainingCompleted(
      completed('fair', { accuracy: 0.9, inference_p99_ms: 3.5, 'accuracy/region/eu': 0.95, 'accuracy/region/us': 0.7 }),
    );
    expect(followUps.map((e) => e.type)).toEqual(['model.registered']);
    const registered = followUps[0] as { data: { gate: { passed: boolean; reason: string } } };
    expect(registered.data.gate.passed).toBe(false);
    expect(registered.data.gate.reason).toMatch(/^failing checks of release policy version 1: fairness \(worst slice region us accuracy 0.7.*; latency pending: serving measures p99 latency during warm-up on the holdout/);
    const gate = (await call('GET', '/models/fair/versions/1/gate')).body;
    expect(gate).toMatchObject({ passed: false, decision: 'reject', policy_version: 1, failed_checks: ['fairness'], pending_checks: ['latency'] });
    const bytes = statSync(join(gateDir, 'good.onnx')).size;
    expect(gate.checks.map((c: { name: string; passed: boolean; measured: number; bound: number }) => [c.name, c.passed, c.measured, c.bound])).toEqual([
      ['champion', true, 0.9, null],
      ['threshold:accuracy:min', true, 0.9, 0.8],
      // The trainer's inference_p99_ms is an ordinary metric now: the gate leaves latency to serving.
      ['latency', null, null, 1],
      ['size', true, bytes, 10_000_000],
      ['fairness', false, expect.closeTo(0.2), 0.05],
    ]);
  });

  it('the same candidate within every bound passes: deployment.requested follows with the latency bound for serving to hold, the other checks recorded as passed', async () => {
    const followUps = await registry.service.onTrainingCompleted(
      completed('fair', { accuracy: 0.9, inference_p99_ms: 0.4, 'accuracy/region/eu': 0.92, 'accuracy/region/us': 0.88 }),
    );
    expect(followUps.map((e) => e.type)).toEqual(['model.registered', 'deployment.requested']);
    // This training.completed names no holdoutUri: serving will reject the version, saying so.
    expect(followUps[1].data).toMatchObject({ version: 2, validation: { latencyP99Ms: 1 } });
    expect((followUps[1].data as { validation: { holdoutUri?: string } }).validation.holdoutUri).toBeUndefined();
    const gate = (await call('GET', '/models/fair/versions/2/gate')).body;
    expect(gate).toMatchObject({ passed: true, failed_checks: [], pending_checks: ['latency'] });
    expect(gate.checks).toHaveLength(5);
    expect(gate.reason).toMatch(/release policy version 1: 4 of 5 checks pass, 1 pending; latency pending: serving measures/);
    const listed = (await call('GET', '/models/fair/versions?max_results=2')).body.versions;
    expect(listed.map((v: { version: number; gate: { failedChecks: string[] } }) => [v.version, v.gate.failedChecks])).toEqual([
      [2, []],
      [1, ['fairness']],
    ]);
  });

  it("README's release policy blocks work as written", async () => {
    const blocks = readmeBlocks('Registry service').filter((b) => b.includes('/policy'));
    expect(blocks).toHaveLength(2);
    const shell = (block: string) =>
      promisify(execFile)('bash', ['-euo', 'pipefail', '-c', block.replaceAll('127.0.0.1:8080/registry', registry.url)], { timeout: 30_000 }).then((r) => r.stdout);
    const [put, get] = blocks;
    expect(JSON.parse(await shell(put))).toMatchObject({ model: 'churn', version: 1, changed: true, effective: { latencyP99Ms: 5, champion: { metric: 'accuracy', tolerance: 0.01 } } });
    const [current, history] = (await shell(get)).split('\n').filter(Boolean).map((line) => JSON.parse(line));
    expect(current).toMatchObject({ model: 'churn', version: 1, policy: { slices: { column: 'region', metric: 'accuracy', maxGap: 0.05 } } });
    expect(history.versions.map((v: { version: number }) => v.version)).toEqual([1]);
  });
});
